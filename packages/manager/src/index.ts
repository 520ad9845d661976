export { BaseManager, SyncManager, Manager, runManagerServer } from "./manager.js";
export type { ManagerOptions, StartOptions } from "./manager.js";
export { BaseProxy, DictProxy, ListProxy, NamespaceProxy } from "./proxy.js";
export type { Proxy } from "./proxy.js";
export type { ProxyRef } from "./protocol.js";
export { AuthenticationError, ClosedError, InvalidStateError, IpcError } from "@ipc/core";
