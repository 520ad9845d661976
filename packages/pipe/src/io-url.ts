/** Where the tasks this package runs in a process's broker thread live (io-tasks.ts). */
import { entryUrl } from "@ipc/core/internal";

/** URL of the io-tasks module (built as its own entry). */
export const IO_TASKS: string = entryUrl("io-tasks", import.meta.url).href;
