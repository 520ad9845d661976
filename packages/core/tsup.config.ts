import { ipcBuild } from "../../tsup.shared.js";

export default ipcBuild(["src/index.ts", "src/broker/broker-worker.ts", "src/broker/client-worker.ts"]);
