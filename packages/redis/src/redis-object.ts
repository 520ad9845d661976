/** What every @ipc/redis data object shares: a name, keys under one hash slot, a connection and a size limit. */
import { ClosedError, toHandle, type HandleDescriptor } from "@ipc/core";
import { checkInt } from "@ipc/core/internal";
import { describeHandle, type HandleState } from "./handle.js";
import type { Redis } from "ioredis";
import { DEFAULT_MAX_VALUE_BYTES, encode } from "./codec.js";
import { checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";

/** Options of Dict and List. */
export interface DataOptions extends RedisObjectOptions {
  /** Largest encoded value (and key) in bytes; default 16 MiB. A larger one throws `MessageTooLargeError`. */
  maxValueBytes?: number;
}

/** @internal base of Dict and List */
export abstract class RedisData {
  /** The name in Redis. */
  readonly name: string;
  /** @internal */
  protected readonly link: Link;
  readonly #prefix: string;
  readonly #max: number;

  readonly #handleOpts: HandleState;

  constructor(opts: DataOptions) {
    this.#handleOpts = opts as unknown as HandleState;
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, name, ... }");
    this.name = checkName(opts.name);
    this.#prefix = opts.prefix ?? "ipc";
    this.#max = opts.maxValueBytes === undefined ? DEFAULT_MAX_VALUE_BYTES : checkInt(opts.maxValueBytes, "maxValueBytes", 16);
    this.link = new Link(opts.connection);
  }

  /** @internal */
  protected key(part: string): string {
    return keyOf(this.#prefix, this.name, part);
  }

  /** @internal */
  protected enc(v: unknown, what: string): Buffer {
    return encode(v, this.#max, what);
  }

  /** @internal */
  protected async cmd(): Promise<Redis> {
    if (this.link.closed) throw new ClosedError(`${this} is closed`);
    return this.link.cmd;
  }

  /** Closes this object's connection (the data stays in Redis). */
  async close(): Promise<void> {
    this.link.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal how a child gets this object: the same connection and name */
  [toHandle](): HandleDescriptor {
    return describeHandle(this.constructor.name, this.#handleOpts, import.meta.url);
  }

  toString(): string {
    return `${this.constructor.name}(${this.name})`;
  }
}
