import { ipcProject } from "../../vitest.shared.js";

export default ipcProject("@ipc/example-manager-remote");
