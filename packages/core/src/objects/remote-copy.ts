/**
 * A remote copy made in the object's own process: the copy a process without the object's memory
 * gets, for tests of the remote paths (every call crosses a real socket to this process's broker
 * thread, as another process's would).
 */
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { exportToBroker } from "../broker/export.js";
import { type HandleDescriptor, toHandle } from "../handles/handle.js";
import type { SharedObject } from "./shared-object.js";

/** Carries a chosen handle descriptor through the codec. */
class Descriptor {
  constructor(readonly d: HandleDescriptor) {}
  [toHandle](): HandleDescriptor {
    return this.d;
  }
}

/** The copy of `obj` that lives elsewhere: its exposed methods call `obj` through this process's broker. */
export function remoteCopyOf<T extends SharedObject>(obj: T): T {
  const d = (obj as unknown as { [toHandle]: (ctx: { target: "process" }) => HandleDescriptor })[toHandle]({ target: "process" });
  const { extra } = d.state as { extra: unknown };
  return deserialize<T>(serialize(new Descriptor({ ...d, state: { extra, remote: exportToBroker(obj) } })));
}
