/**
 * The pool's end of a worker's channel: shared-memory rings for a thread worker, an authenticated
 * socket for a process worker. Both deliver messages in order and read only while the worker owes
 * the pool answers, so an idle pool keeps nothing alive.
 */
import type { Server } from "node:net";
import { currentAuthkey, deserialize, serialize } from "@ipc/core";
import { privateAddress, listenFramed, type FramedSocket } from "@ipc/core/internal";
import type { WorkerLink } from "./pool-worker.js";
import { answersIn, type FromWorker, type ToWorker } from "./protocol.js";
import { allocateChannel, RingChannel } from "./ring-channel.js";

/** The pool's end of one worker's channel. */
export interface Link {
  /** What the worker is started with to reach this link. */
  readonly setup: WorkerLink;
  /** Sends in order, without blocking the event loop. */
  send(msg: ToWorker): void;
  /** `n` more answers are owed: read until they have arrived. */
  expect(n: number): void;
  /** After the worker ended: delivers whatever it sent that was not read yet. */
  drain(): Promise<void>;
  close(): void;
}

/** Rings in shared memory (thread workers). */
export class RingLink implements Link {
  readonly setup: WorkerLink;
  private readonly tasks: RingChannel;
  private readonly results: RingChannel;
  private chain: Promise<void> = Promise.resolve();
  private owed = 0;
  private reading = false;
  private closed = false;
  private abort: AbortController | undefined;

  constructor(private readonly onMessage: (msg: FromWorker) => void) {
    this.tasks = new RingChannel(allocateChannel());
    this.results = new RingChannel(allocateChannel());
    this.setup = { kind: "ring", tasks: this.tasks.buffer, results: this.results.buffer };
  }

  send(msg: ToWorker): void {
    this.chain = this.chain.then(() => this.tasks.send(msg)).catch(() => {});
  }

  expect(n: number): void {
    this.owed += n;
    if (!this.reading && !this.closed) {
      this.reading = true;
      void this.read();
    }
  }

  private async read(): Promise<void> {
    while (this.owed > 0 && !this.closed) {
      this.abort = new AbortController();
      let msg: FromWorker;
      try {
        msg = await this.results.recv<FromWorker>(this.abort.signal);
      } catch {
        break;
      }
      this.owed -= answersIn(msg);
      this.onMessage(msg);
      // then take what else is there without another async wait
      for (let more = this.results.tryRecv<FromWorker>(); more !== undefined && !this.closed; more = this.owed > 0 ? this.results.tryRecv<FromWorker>() : undefined) {
        this.owed -= answersIn(more);
        this.onMessage(more);
      }
    }
    this.reading = false;
  }

  async drain(): Promise<void> {
    // The worker has ended: nothing more will arrive. Deliver what it left in the ring. A running
    // reader holds the ring's read lock while it waits, so let it take the messages itself; take
    // them here only when it is not running. Bounded, and on ref'd timers (someone waits on this).
    const end = Date.now() + 1000;
    while (!this.closed) {
      if (!this.reading) {
        for (let msg = this.results.tryRecv<FromWorker>(); msg !== undefined && !this.closed; msg = this.results.tryRecv<FromWorker>()) {
          this.owed -= answersIn(msg);
          this.onMessage(msg);
        }
      }
      if (this.results.ring.count() === 0 || Date.now() > end) break;
      await new Promise((r) => setImmediate(r));
    }
    // a reader that has just taken the last message delivers it in its next microtasks
    await new Promise((r) => setImmediate(r));
  }

  close(): void {
    this.closed = true;
    this.abort?.abort();
  }
}

/** The pool's socket server for process workers: one per pool, one connection per worker. */
export class SocketHub {
  readonly address = privateAddress("ipc-pool");
  private server: Server | undefined;
  private readonly links = new Map<number, SocketLink>();
  readonly ready: Promise<void>;

  constructor() {
    this.ready = listenFramed(this.address, {
      authkey: currentAuthkey(),
      onConnection: (conn) => {
        conn.setHandler((frame) => {
          const hello = deserialize<{ t: string; index: number }>(frame);
          const link = this.links.get(hello.index);
          if (hello.t !== "hello" || !link) {
            conn.close();
            return;
          }
          link.attach(conn);
        });
      },
    }).then((s) => {
      this.server = s;
      s.unref();
    });
  }

  /** A link for worker `index`. */
  link(index: number, onMessage: (msg: FromWorker) => void): SocketLink {
    const l = new SocketLink(this.address, index, onMessage);
    this.links.set(index, l);
    return l;
  }

  forget(index: number): void {
    this.links.get(index)?.close();
    this.links.delete(index);
  }

  close(): void {
    this.server?.close();
    for (const l of this.links.values()) l.close();
  }
}

/** A socket to one process worker. */
export class SocketLink implements Link {
  readonly setup: WorkerLink;
  private conn: FramedSocket | undefined;
  private queued: Uint8Array[] = [];
  private owed = 0;
  private onAttach: (() => void) | undefined;

  constructor(
    address: string,
    index: number,
    private readonly onMessage: (msg: FromWorker) => void,
  ) {
    this.setup = { kind: "socket", address, index };
  }

  /** @internal the worker connected and said hello. */
  attach(conn: FramedSocket): void {
    this.conn = conn;
    conn.setHandler((frame) => {
      const msg = deserialize<FromWorker>(frame);
      this.owed -= answersIn(msg);
      this.refresh();
      this.onMessage(msg);
    });
    if (!conn.closed) for (const b of this.queued) conn.send(b);
    this.queued = [];
    this.refresh();
    this.onAttach?.();
  }

  private refresh(): void {
    if (this.owed > 0) this.conn?.socket.ref();
    else this.conn?.socket.unref();
  }

  send(msg: ToWorker): void {
    const bytes = serialize(msg);
    if (this.conn && !this.conn.closed) this.conn.send(bytes);
    else if (!this.conn) this.queued.push(bytes);
  }

  expect(n: number): void {
    this.owed += n;
    this.refresh();
  }

  async drain(): Promise<void> {
    // a process's last frames arrive before its end of the socket closes; its connection may
    // even be accepted only after its exit was noticed: wait (a bounded time) for both. The
    // timers are ref'd: someone is waiting on this (terminate, join), so the loop must stay up.
    if (!this.conn) await within(1000, new Promise<void>((r) => (this.onAttach = r)));
    const conn = this.conn;
    if (!conn || conn.closed) return;
    await within(1000, new Promise<void>((r) => conn.onClose(() => r())));
  }

  close(): void {
    this.conn?.close();
  }
}

/** Resolves when `p` does or after `ms`, whichever comes first, keeping the event loop alive meanwhile. */
async function within(ms: number, p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
