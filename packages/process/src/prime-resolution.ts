/** Imported first by the thread child's entry: seeds module resolution before anything is required. */
import { workerData } from "node:worker_threads";
import { applyResolutionHints, type ResolutionHint } from "./resolution-hints.js";

applyResolutionHints((workerData as { resolution?: ResolutionHint[] } | undefined)?.resolution);
