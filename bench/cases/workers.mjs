// Child targets for the bench cases.
export function incrementUnderLock(counter, lock, barrier, n, spans, slot) {
  barrier.waitSync();
  const t0 = performance.timeOrigin + performance.now();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    counter[0] = counter[0] + 1;
    lock.release();
  }
  spans[slot * 2] = t0;
  spans[slot * 2 + 1] = performance.timeOrigin + performance.now();
}

export function hello(ready) {
  ready.set();
}

/** From another process: n acquire/release pairs through the home's broker, between two events. */
export async function remoteLockLoop(lock, n, ready, go, done) {
  await lock.acquire(); // connect and warm up
  lock.release();
  ready.set();
  await go.wait();
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    lock.release();
  }
  done.set();
}

/** Python's counterpart runs mp.Lock acquire/release in a child process. */
export function remoteLockLoopSync(lock, n, ready, go, done) {
  lock.acquireSync();
  lock.release();
  ready.set();
  go.waitSync();
  for (let i = 0; i < n; i++) {
    lock.acquireSync();
    lock.release();
  }
  done.set();
}

/** n increments of a @ipc/shared Value under its lock, between two barrier waits (times in spans). */
export function incrementValue(v, barrier, n, spans, slot) {
  barrier.waitSync();
  const t0 = performance.timeOrigin + performance.now();
  for (let i = 0; i < n; i++) v.withLockSync((c) => void (c.value += 1));
  spans.set(slot * 2, t0);
  spans.set(slot * 2 + 1, performance.timeOrigin + performance.now());
}

/** n sequential set + get on a manager dict; reports ops/s on `out`. */
export async function managerDictLoop(d, n, out) {
  await d.set("warm", 1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await d.set(i, i);
    await d.get(i);
  }
  out.value = (2 * n) / ((performance.now() - t0) / 1000);
}

/** Fills a SharedArray with 0..n-1 through its raw view; the milliseconds it took go to `ms`. */
export function fillRaw(arr, ms) {
  const t0 = performance.now();
  const raw = arr.raw;
  for (let i = 0; i < raw.length; i++) raw[i] = i;
  ms.value = performance.now() - t0;
}
