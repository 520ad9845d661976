// Child targets of the pipe bench cases.
const items = { obj: () => ({ id: 1, op: "put" }), "1m": () => new Uint8Array(1 << 20) };

/** Sends n items once `go` is set (sendSync blocks while the pipe is full, as Python's send). */
export async function pipeSend(conn, n, payload, ready, go) {
  const item = items[payload]();
  ready.release();
  go.waitSync();
  if (payload === "1m") for (let i = 0; i < n; i++) conn.sendBytesSync(item);
  else for (let i = 0; i < n; i++) conn.sendSync(item);
  await conn.drain();
}

/** Echoes messages until null. */
export function echo(conn) {
  for (;;) {
    const m = conn.recvSync();
    if (m === null) break;
    conn.sendSync(m);
  }
}
