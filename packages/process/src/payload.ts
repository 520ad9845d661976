/** What a parent sends a starting child: identity, what to run, and its serialized arguments. */
import type { ChildIdentity } from "./identity.js";

/** Run `target` exported by `module`, or the subclass `className`'s `run()` on restored fields. */
export interface StartPayload {
  identity: ChildIdentity;
  module: string;
  kind: "target" | "subclass" | "none";
  /** Export name of the target function or of the subclass. */
  exportName: string;
  /** Serialized `{ args, kwargs }` or the subclass instance's own fields. */
  bytes: Uint8Array;
  /** Shared buffers that travel with the bytes (thread context). */
  shared: SharedArrayBuffer[];
  /** Type and module of each handle in `bytes`: imported before they are deserialized. */
  handleModules: [type: string, module: string][];
  /** The process's table of ended threads (thread context), for robust locks. */
  liveness?: Int32Array;
  /** The parent has @ipc/native loaded (thread context): the child has the addon record its end. */
  native?: boolean;
}
