import { mergeConfig } from "vitest/config";
import { ipcProject } from "../../vitest.shared.js";

// one real redis-server for the run (test/global-setup.ts); fault tests start their own
export default mergeConfig(ipcProject("@ipc/redis"), { test: { globalSetup: ["test/global-setup.ts"] } });
