/** Entry of a `'thread'` child: a worker thread whose workerData is the start payload. */
// first: it seeds module resolution before bootstrap.js requires @ipc/core/slim
import "./prime-resolution.js";
import { workerData } from "node:worker_threads";
import { runChild } from "./bootstrap.js";
import type { StartPayload } from "./payload.js";

void runChild(workerData as StartPayload).then((code) => process.exit(code));
