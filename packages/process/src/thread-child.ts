/** Entry of a `'thread'` child: a worker thread whose workerData is the start payload. */
import { workerData } from "node:worker_threads";
import { runChild } from "./bootstrap.js";
import type { StartPayload } from "./payload.js";

runChild(workerData as StartPayload).then((code) => process.exit(code));
