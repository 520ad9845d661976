// Python's Listener example: listens with an authkey, sends a list, bytes and an int array to the
// first client, then exits. Prints its port first (listening on 127.0.0.1, a free port).
import { Listener } from "@ipc/pipe";

const listener = new Listener({ address: { host: "127.0.0.1", port: Number(process.argv[2] ?? 0) }, authkey: "secret password" });
console.log(`listening on port ${listener.address.port}`);
const conn = await listener.accept();
console.log("connection accepted");
conn.send([2.25, null, "junk", 1729n]);
conn.sendBytes(new TextEncoder().encode("hello"));
conn.sendBytes(new Int32Array([42, 1729]));
await conn.drain();
conn.close();
listener.close();
