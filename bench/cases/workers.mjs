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
