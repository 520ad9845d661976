import { ipcBuild } from "../../tsup.shared.js";

// io-tasks runs in the process's broker thread (loaded there by URL); splitting keeps one copy of
// every class between it and the main entry
export default ipcBuild(["src/index.ts", "src/io-tasks.ts"], { splitting: true });
