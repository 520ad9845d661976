/** Remaining time of an operation that started at `start` with `timeout` ms (Infinity = forever). */
export class Deadline {
  readonly end: number;
  constructor(readonly timeout: number) {
    this.end = timeout === Infinity ? Infinity : performance.now() + timeout;
  }
  /** Milliseconds left, 0 when expired. */
  remaining(): number {
    if (this.end === Infinity) return Infinity;
    return Math.max(0, this.end - performance.now());
  }
  expired(): boolean {
    return this.remaining() <= 0;
  }
}
