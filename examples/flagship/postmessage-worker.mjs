// A hand-written worker_threads worker: what Node offers without a library. It runs the same
// task for each message and posts the result back.
import { parentPort } from "node:worker_threads";
import { indexSlice } from "./tasks.mjs";

parentPort.on("message", ({ id, slice }) => {
  const r = indexSlice(slice);
  parentPort.postMessage({ id, r }, [r.counts.buffer]);
});
