// Python's duplex Pipe example, with both ends used: the child sends [42, null, "hello"], then
// answers the parent's questions until the parent closes its end.
import { Pipe } from "@ipc/pipe";
import { isMainProcess, Process } from "@ipc/process";

export async function f(conn) {
  conn.send([42, null, "hello"]);
  for await (const question of conn) conn.send(`${question}? ${question.length} letters`);
  conn.close();
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const [parentConn, childConn] = Pipe();
  const p = new Process({ module: import.meta.url, target: f, args: [childConn], context });
  p.start();
  childConn.close(); // the child holds its own copy
  console.log(await parentConn.recv()); // [ 42, null, 'hello' ]
  for (const word of ["pipe", "duplex"]) {
    parentConn.send(word);
    console.log(await parentConn.recv());
  }
  parentConn.close(); // the child's loop ends at EOF
  await p.join();
  console.log(`child exited with ${p.exitCode}`);
}
