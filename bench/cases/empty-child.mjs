// The emptiest child process: says it is up, then exits (Node's own floor for fork()).
process.send(1, () => process.disconnect());
