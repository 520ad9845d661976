import { ipcBuild } from "../../tsup.shared.js";

// splitting: the entries share chunks, so `@ipc/core`, `@ipc/core/internal` and `@ipc/core/slim` are one copy of each class
export default ipcBuild(["src/index.ts", "src/internal.ts", "src/slim.ts", "src/broker/broker-worker.ts", "src/broker/client-worker.ts"], { splitting: true });
