/**
 * Word indexes and states of a ring's header: the layout table is in ring.ts. Not exported from
 * @ipc/core (callers use the ring's methods); tests that inspect a ring's words import this file.
 */

/** Word `TAIL_LOCK` (see the layout table in ring.ts). */
export const TAIL_LOCK = 0;
/** Word `HEAD_LOCK` (see the layout table in ring.ts). */
export const HEAD_LOCK = 16;
/** Word `TAIL` (see the layout table in ring.ts). */
export const TAIL = 1;
/** Word `HEAD` (see the layout table in ring.ts). */
export const HEAD = 17;
/** Word `PUTS` (see the layout table in ring.ts). */
export const PUTS = 3;
/** Word `TAKES` (see the layout table in ring.ts). */
export const TAKES = 19;
/** Word `DATA_SEQ` (see the layout table in ring.ts). */
export const DATA_SEQ = 2;
/** Word `CONSUMERS` (see the layout table in ring.ts). */
export const CONSUMERS = 48;

/**
 * From a sleeper count word to its registrations word (`CONSUMERS` 48 → `CONSUMER_SLEEPS` 56,
 * `PRODUCERS` 49 → `PRODUCER_SLEEPS` 57).
 */
export const SLEEPS_OFFSET = 8;

/**
 * Registers a sleeper in count word `counter` (before its wait): a later waker must wake it. The
 * registrations word counts every registration ever, so a waker can tell a sleeper that came
 * since its last notify (which it must wake) from one it already woke that has not run yet.
 */
export function registerSleeper(i32: Int32Array, counter: number): void {
  Atomics.add(i32, counter + SLEEPS_OFFSET, 1);
  Atomics.add(i32, counter, 1);
}

/** Unregisters a sleeper from count word `counter` (after its wait). */
export function unregisterSleeper(i32: Int32Array, counter: number): void {
  Atomics.sub(i32, counter, 1);
}

/** Word `SPACE_SEQ` (see the layout table in ring.ts). */
export const SPACE_SEQ = 18;
/** Word `PRODUCERS` (see the layout table in ring.ts). */
export const PRODUCERS = 49;
/** Word `MAX_SIZE` (see the layout table in ring.ts). */
export const MAX_SIZE = 50;
/** Word `STATE` (see the layout table in ring.ts). */
export const STATE = 51;
/** Word `UNFINISHED` (see the layout table in ring.ts). */
export const UNFINISHED = 33;
/** Word `JOIN_SEQ` (see the layout table in ring.ts). */
export const JOIN_SEQ = 34;
/** Word `CAPACITY` (see the layout table in ring.ts). */
export const CAPACITY = 52;
/** First of the two words `HANDED` (see the layout table in ring.ts). */
export const HANDED = 35;
/** Hand-over slots (`HANDED` and the word after it). */
export const HAND_OVER_SLOTS = 2;
/** Control words in four groups of 16 (one cache line each), then the data area. */
export const HEADER_WORDS = 64;
/** Bytes before the data area. */
export const HEADER_BYTES = HEADER_WORDS * 4;

/** `STATE`: open. */
export const OPEN = 0;
/** `STATE`: shut down (gets drain, then fail). */
export const SHUT = 1;
/** `STATE`: shut down immediately (contents discarded). */
export const SHUT_IMMEDIATE = 2;
