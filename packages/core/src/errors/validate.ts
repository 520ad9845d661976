import { IpcError } from "./errors.js";

function describe(value: unknown): string {
  const type = value === null ? "null" : typeof value;
  let shown: string;
  try {
    shown = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  return `\`${shown}\` (${type})`;
}

/** Throws `TypeError`/`RangeError` in the one shape used across @ipc: Expected `x` to be …, got `v` (type). */
export function invalid(name: string, expected: string, value: unknown, Cls: new (m: string) => Error = TypeError): never {
  throw new Cls(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
}

/** Validates an optional timeout in milliseconds: a number >= 0, or undefined/Infinity for "forever". */
export function checkTimeout(timeout: unknown, name = "timeout"): number {
  if (timeout === undefined || timeout === null) return Infinity;
  if (typeof timeout !== "number" || Number.isNaN(timeout)) invalid(name, "a number of milliseconds", timeout);
  return timeout < 0 ? 0 : timeout;
}

/** Validates an integer within [min, max]. */
export function checkInt(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value)) invalid(name, `an integer >= ${min}`, value);
  if (value < min || value > max) invalid(name, `an integer in [${min}, ${max}]`, value, RangeError);
  return value;
}

/** Validates an optional AbortSignal. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) invalid("signal", "an AbortSignal", signal);
  return signal;
}

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new IpcError("The operation was aborted");
}

/**
 * The options object a remote copy sent as `args[i]` (a forwarded call's last argument), `{}`
 * when it sent none. @throws TypeError when it is not an object.
 */
export function optionsArg<T extends object>(args: readonly unknown[], i: number): Partial<T> {
  const o = args[i];
  if (o === undefined || o === null) return {};
  if (typeof o !== "object") invalid("options", "an object", o);
  return o;
}

/** The timeout of the options a remote copy sent as `args[i]` (see {@link optionsArg}). */
export function timeoutArg(args: readonly unknown[], i: number): number {
  return checkTimeout(optionsArg<{ timeout: number }>(args, i).timeout);
}
