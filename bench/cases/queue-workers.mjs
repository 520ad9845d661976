// Child targets of the queue bench cases.
const items = { int: () => 1, obj: () => ({ id: 1, op: "put" }), "1k": () => new Uint8Array(1024), "1m": () => new Uint8Array(1 << 20) };

export function produce(q, n, payload, ready, go) {
  const item = items[payload]();
  ready.release();
  go.waitSync();
  for (let i = 0; i < n; i++) q.putSync(item);
}

export function consume(q, n, done, ready, go) {
  // started and waiting like the producers, so the timed window has every party running
  ready.release();
  go.waitSync();
  for (let i = 0; i < n; i++) q.getSync();
  done.release();
}

export function taskWorker(q) {
  for (;;) {
    q.getSync();
    q.taskDone();
  }
}

/** As users write it: `await q.put(item)` for each item, the same item object reused. */
export async function produceAsync(q, n, payload, ready, go) {
  const item = items[payload]();
  ready.release();
  await go.wait();
  for (let i = 0; i < n; i++) await q.put(item);
}

/** As users write it: `await q.get()` for n items once `go` is set, then says so on `done`. */
export async function consumeAsync(q, n, ready, go, done) {
  ready.release();
  await go.wait();
  for (let i = 0; i < n; i++) await q.get();
  done.release();
}
