import { threadId } from "node:worker_threads";

/**
 * The owner id this isolate writes into lock owner words: threadId + 1 (so the main thread is 1,
 * and 0 means "no owner"). Unique among the threads of one process; ids for other processes are
 * assigned by the broker from `REMOTE_OWNER_BASE` up.
 */
export const localOwnerId: number = threadId + 1;

/** First owner id the broker hands to a remote (other-process) party. */
export const REMOTE_OWNER_BASE = 0x40000000;
