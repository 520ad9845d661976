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

/** Receives `warm` untimed messages, then n with `await conn.recv()`, then says so on `done`. */
export async function pipeRecvAsync(conn, n, ready, go, done, warm = 0) {
  for (let i = 0; i < warm; i++) await conn.recv();
  ready.release();
  await go.wait();
  for (let i = 0; i < n; i++) await conn.recv();
  done.release();
}

/** Echoes with the async API on this end too, as users write it. */
export async function echoAsync(conn) {
  for (;;) {
    const m = await conn.recv();
    if (m === null) break;
    conn.send(m);
  }
}

/** Sends n small items with the async API (`send` never blocks), then waits until they are in the pipe. */
export async function pipeSendAsync(conn, n, ready, go) {
  const item = items.obj();
  ready.release();
  await go.wait();
  for (let i = 0; i < n; i++) conn.send(item);
  await conn.drain();
}
