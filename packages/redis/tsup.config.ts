import { ipcBuild } from "../../tsup.shared.js";

export default ipcBuild(["src/index.ts", "src/cli.ts"]);
