// Python's Client example: connects with the same authkey and reads what the sender sent.
import { Client } from "@ipc/pipe";

const conn = await Client({ host: "127.0.0.1", port: Number(process.argv[2]) }, { authkey: "secret password" });
console.log(await conn.recv()); // [ 2.25, null, 'junk', 1729n ]
console.log(new TextDecoder().decode(await conn.recvBytes())); // hello
const arr = new Int32Array(5);
console.log(await conn.recvBytesInto(arr)); // 8
console.log(arr); // Int32Array(5) [ 42, 1729, 0, 0, 0 ]
conn.close();
