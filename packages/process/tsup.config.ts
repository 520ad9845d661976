import { ipcBuild } from "../../tsup.shared.js";

export default ipcBuild(["src/index.ts", "src/thread-child.ts", "src/process-child.ts"]);
