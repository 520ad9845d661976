import { ipcProject } from "../../vitest.shared.js";

export default ipcProject("@ipc/example-redis-job-queue");
