"""CPython multiprocessing counterparts of the @ipc bench cases (start method: fork, as Linux's default).

Usage: python3 cases.py <case> <repeats>. Prints one JSON line: {"case", "unit", "runs"}.
"""
import json
import multiprocessing as mp
import pickle
import sys
import time

ctx = mp.get_context("fork")
now = time.perf_counter


def codec_small(n=200_000):
    obj = {"id": 1, "op": "put"}
    t0 = now()
    for i in range(n):
        pickle.loads(pickle.dumps({"id": i, "op": "put"}, protocol=pickle.HIGHEST_PROTOCOL))
    return n / (now() - t0)


def codec_1k(n=200_000):
    b = bytes(1024)
    t0 = now()
    for _ in range(n):
        pickle.loads(pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL))
    return n / (now() - t0)


def codec_large(n=200):
    big = {"rows": [{"id": i, "op": "put", "name": f"item-{i}"} for i in range(10_000)], "blob": bytes(1 << 20)}
    t0 = now()
    for _ in range(n):
        pickle.loads(pickle.dumps(big, protocol=pickle.HIGHEST_PROTOCOL))
    return n / (now() - t0)


def lock_uncontended(n=1_000_000):
    lock = ctx.Lock()
    acq, rel = lock.acquire, lock.release
    t0 = now()
    for _ in range(n):
        acq()
        rel()
    return n / (now() - t0)


def _incr(v, bar, n, res):
    lock = v.get_lock()
    bar.wait()
    t0 = now()
    for _ in range(n):
        with lock:
            v.value += 1
    res.put((t0, now()))


def counter_2proc(n=1_000_000):
    v = ctx.Value("i", 0)
    res = ctx.SimpleQueue()
    bar = ctx.Barrier(2)
    ps = [ctx.Process(target=_incr, args=(v, bar, n, res)) for _ in range(2)]
    for p in ps:
        p.start()
    spans = [res.get() for _ in ps]
    for p in ps:
        p.join()
    assert v.value == 2 * n
    return 2 * n / (max(e for _, e in spans) - min(s for s, _ in spans))


def _remote_lock(lock, n, ready, go, done):
    lock.acquire()
    lock.release()
    ready.set()
    go.wait()
    for _ in range(n):
        lock.acquire()
        lock.release()
    done.set()


def lock_remote(n=200_000):
    lock, ready, go, done = ctx.Lock(), ctx.Event(), ctx.Event(), ctx.Event()
    p = ctx.Process(target=_remote_lock, args=(lock, n, ready, go, done))
    p.start()
    ready.wait()
    t0 = now()
    go.set()
    done.wait()
    rate = n / (now() - t0)
    p.join()
    return rate


def _q_produce(q, n, payload, ready, go):
    item = {"int": 1, "obj": {"id": 1, "op": "put"}, "1k": bytes(1024), "1m": bytes(1 << 20)}[payload]
    ready.put(1)
    go.wait()
    for _ in range(n):
        q.put(item)


def _q_consume(q, n, done):
    for _ in range(n):
        q.get()
    done.put(now())


def _queue_case(payload, n, producers=1, consumers=1, joinable=False):
    q = ctx.JoinableQueue() if joinable else ctx.Queue()
    ready, done = ctx.SimpleQueue(), ctx.SimpleQueue()
    go = ctx.Event()
    ps = [ctx.Process(target=_q_produce, args=(q, n // producers, payload, ready, go)) for _ in range(producers)]
    cs = [ctx.Process(target=_q_consume, args=(q, n // consumers, done)) for _ in range(consumers)]
    for p in ps + cs:
        p.start()
    for _ in ps:
        ready.get()
    t0 = now()
    go.set()
    end = max(done.get() for _ in cs)
    for p in ps + cs:
        p.join()
    return n / (end - t0)


def queue_small(n=100_000):
    return _queue_case("int", n)


def queue_obj(n=100_000):
    return _queue_case("obj", n)


def queue_1k(n=50_000):
    return _queue_case("1k", n)


def queue_1m(n=200):
    return _queue_case("1m", n)


def queue_2to2(n=100_000):
    return _queue_case("int", n, 2, 2)


def joinable(n=50_000):
    q = ctx.JoinableQueue()

    def worker(q):
        while True:
            q.get()
            q.task_done()

    c = ctx.Process(target=worker, args=(q,), daemon=True)
    c.start()
    q.put(0)
    q.join()
    t0 = now()
    for i in range(n):
        q.put(i)
    q.join()
    rate = n / (now() - t0)
    c.terminate()
    return rate


def _pipe_send(conn, n, payload, ready, go):
    item = {"obj": {"id": 1, "op": "put"}, "1m": bytes(1 << 20)}[payload]
    ready.put(1)
    go.wait()
    if payload == "1m":
        for _ in range(n):
            conn.send_bytes(item)
    else:
        for _ in range(n):
            conn.send(item)


def _pipe_case(payload, n):
    r, w = ctx.Pipe(duplex=False)
    ready = ctx.SimpleQueue()
    go = ctx.Event()
    p = ctx.Process(target=_pipe_send, args=(w, n, payload, ready, go))
    p.start()
    w.close()
    ready.get()
    t0 = now()
    go.set()
    if payload == "1m":
        for _ in range(n):
            r.recv_bytes()
    else:
        for _ in range(n):
            r.recv()
    end = now()
    p.join()
    return n / (end - t0)


def pipe_small(n=100_000):
    return _pipe_case("obj", n)


def pipe_1m(n=200):
    return _pipe_case("1m", n)


def _echo(conn):
    while True:
        m = conn.recv()
        if m is None:
            break
        conn.send(m)


def pipe_rtt(n=10_000):
    a, b = ctx.Pipe()
    p = ctx.Process(target=_echo, args=(b,))
    p.start()
    item = {"id": 1, "op": "put"}
    a.send(item)
    a.recv()
    t0 = now()
    for _ in range(n):
        a.send(item)
        a.recv()
    us = (now() - t0) / n * 1e6
    a.send(None)
    p.join()
    return us


def _sq(x):
    return x * x


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ctx.Pool(2)
        _POOL.map(_sq, range(1000))
    return _POOL


def pool_apply_async(n=10_000):
    pool = _pool()
    t0 = now()
    rs = [pool.apply_async(_sq, (i,)) for i in range(n)]
    for r in rs:
        r.get()
    return n / (now() - t0)


def pool_imap_unordered(n=100_000):
    pool = _pool()
    t0 = now()
    sum(pool.imap_unordered(_sq, range(n)))
    return n / (now() - t0)


def pool_map(n=100_000):
    pool = _pool()
    t0 = now()
    pool.map(_sq, range(n))
    return n / (now() - t0)


def pool_startup():
    t0 = now()
    with ctx.Pool(2) as pool:
        pool.apply(_sq, (3,))
        ms = (now() - t0) * 1e3
    return ms


def _hello(q):
    q.put(1)


def _start(method):
    c = mp.get_context(method)
    q = c.SimpleQueue()
    t0 = now()
    p = c.Process(target=_hello, args=(q,))
    p.start()
    q.get()
    ms = (now() - t0) * 1e3
    p.join()
    return ms


def start_fork():
    return _start("fork")


def start_spawn():
    return _start("spawn")



def _cold(run):
    """A fresh Pool(2), one small call (its workers are up), then `run(pool)` timed."""
    with ctx.Pool(2) as pool:
        pool.apply(_sq, (1,))
        t0 = now()
        n = run(pool)
        return n / (now() - t0)


def pool_apply_async_cold(n=10_000):
    def run(pool):
        rs = [pool.apply_async(_sq, (i,)) for i in range(n)]
        for r in rs:
            r.get()
        return n

    return _cold(run)


def pool_imap_unordered_cold(n=100_000):
    return _cold(lambda pool: sum(1 for _ in pool.imap_unordered(_sq, range(n))))


def pool_map_cold(n=100_000):
    return _cold(lambda pool: len(pool.map(_sq, range(n))))



def _dict_loop(d, n, res):
    d["warm"] = 1
    t0 = now()
    for i in range(n):
        d[i] = i
        d[i]
    res.put(2 * n / (now() - t0))


def manager_dict(n=5000):
    with ctx.Manager() as m:
        d = m.dict()
        res = ctx.SimpleQueue()
        p = ctx.Process(target=_dict_loop, args=(d, n, res))
        p.start()
        rate = res.get()
        p.join()
        return rate


def manager_start():
    t0 = now()
    with ctx.Manager() as m:
        d = m.dict()
        d["x"] = 1
        ms = (now() - t0) * 1e3
    return ms


def _fill(arr, n, res):
    a = arr.get_obj()
    t0 = now()
    for i in range(n):
        a[i] = i
    res.put(now() - t0)


def array_fill_sum(n=1_000_000):
    """Array('d') filled by a child through get_obj(), summed by the parent through get_obj()."""
    arr = ctx.Array("d", n)
    res = ctx.SimpleQueue()
    p = ctx.Process(target=_fill, args=(arr, n, res))
    p.start()
    fill = res.get()
    p.join()
    t0 = now()
    total = sum(arr.get_obj())
    assert total == n * (n - 1) / 2
    return n / (fill + now() - t0)


def array_sum_api(n=1_000_000):
    """sum(arr) over a synchronized Array('d') (each element read takes its lock)."""
    arr = ctx.Array("d", range(n))
    t0 = now()
    total = sum(arr)
    assert total == n * (n - 1) / 2
    return n / (now() - t0)


def shm_create_attach(n=2000):
    """SharedMemory of 1 MiB: create, attach by name, close both, unlink."""
    from multiprocessing import shared_memory
    t0 = now()
    for _ in range(n):
        a = shared_memory.SharedMemory(create=True, size=1 << 20)
        b = shared_memory.SharedMemory(name=a.name)
        b.close()
        a.close()
        a.unlink()
    return n / (now() - t0)


def pipe_create(n=5000):
    """mp.Pipe(): make one, close both ends."""
    t0 = now()
    for _ in range(n):
        a, b = ctx.Pipe()
        a.close()
        b.close()
    return n / (now() - t0)


_FRESH = {
    "pool": """
import multiprocessing as mp, time, sys
def sq(x): return x * x
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    t0 = time.perf_counter()
    with ctx.Pool(2) as pool:
        pool.apply(sq, (3,))
        print((time.perf_counter() - t0) * 1e3)
""",
    "start": """
import multiprocessing as mp, time, sys
def hello(q): q.put(1)
if __name__ == "__main__":
    c = mp.get_context(sys.argv[1])
    q = c.SimpleQueue()
    t0 = time.perf_counter()
    p = c.Process(target=hello, args=(q,))
    p.start()
    q.get()
    print((time.perf_counter() - t0) * 1e3)
    p.join()
""",
}


def _fresh(script, *args):
    """Milliseconds a start-up step took in a fresh python process."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_FRESH[script])
    out = subprocess.run([sys.executable, f.name, *args], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def pool_startup_fresh():
    return _fresh("pool")


def start_fork_fresh():
    return _fresh("start", "fork")


def start_spawn_fresh():
    return _fresh("start", "spawn")

CASES = {
    "codec_small": ("ops/s", codec_small),
    "codec_1k": ("ops/s", codec_1k),
    "codec_large": ("ops/s", codec_large),
    "lock_uncontended": ("ops/s", lock_uncontended),
    "counter_2proc": ("ops/s", counter_2proc),
    "lock_remote": ("ops/s", lock_remote),
    "pipe_small": ("ops/s", pipe_small),
    "pipe_1m": ("ops/s", pipe_1m),
    "pipe_rtt": ("us", pipe_rtt),
    "queue_small": ("ops/s", queue_small),
    "queue_obj": ("ops/s", queue_obj),
    "queue_1k": ("ops/s", queue_1k),
    "queue_1m": ("ops/s", queue_1m),
    "queue_2to2": ("ops/s", queue_2to2),
    "joinable": ("ops/s", joinable),
    "pool_apply_async": ("ops/s", pool_apply_async),
    "pool_imap_unordered": ("ops/s", pool_imap_unordered),
    "pool_map": ("ops/s", pool_map),
    "pool_startup": ("ms", pool_startup),
    "pool_apply_async_cold": ("ops/s", pool_apply_async_cold),
    "pool_imap_unordered_cold": ("ops/s", pool_imap_unordered_cold),
    "pool_map_cold": ("ops/s", pool_map_cold),
    "pool_startup_fresh": ("ms", pool_startup_fresh),
    "manager_dict": ("ops/s", manager_dict),
    "manager_start": ("ms", manager_start),
    "array_fill_sum": ("ops/s", array_fill_sum),
    "array_sum_api": ("ops/s", array_sum_api),
    "shm_create_attach": ("ops/s", shm_create_attach),
    "pipe_create": ("ops/s", pipe_create),
    "start_fork_fresh": ("ms", start_fork_fresh),
    "start_spawn_fresh": ("ms", start_spawn_fresh),
    "start_fork": ("ms", start_fork),
    "start_spawn": ("ms", start_spawn),
}

if __name__ == "__main__":
    name, repeats = sys.argv[1], int(sys.argv[2])
    unit, fn = CASES[name]
    runs = [fn() for _ in range(repeats)]
    print(json.dumps({"case": name, "unit": unit, "runs": runs}))
