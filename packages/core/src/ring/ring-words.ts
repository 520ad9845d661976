/**
 * Word indexes and states of a ring's header: the layout table is in ring.ts. Not exported from
 * @ipc/core (callers use the ring's methods); tests that inspect a ring's words import this file.
 */

/** Word `TAIL_LOCK` (see the layout table in ring.ts). */
export const TAIL_LOCK = 0;
/** Word `HEAD_LOCK` (see the layout table in ring.ts). */
export const HEAD_LOCK = 1;
/** Word `TAIL` (see the layout table in ring.ts). */
export const TAIL = 2;
/** Word `HEAD` (see the layout table in ring.ts). */
export const HEAD = 3;
/** Word `COUNT` (see the layout table in ring.ts). */
export const COUNT = 4;
/** Word `DATA_SEQ` (see the layout table in ring.ts). */
export const DATA_SEQ = 5;
/** Word `CONSUMERS` (see the layout table in ring.ts). */
export const CONSUMERS = 6;

/** Registers a sleeper in count word `counter` (before its wait): a later waker must wake it. */
export function registerSleeper(i32: Int32Array, counter: number): void {
  Atomics.add(i32, counter, 1);
}

/** Unregisters a sleeper from count word `counter` (after its wait). */
export function unregisterSleeper(i32: Int32Array, counter: number): void {
  Atomics.sub(i32, counter, 1);
}

/** Word `SPACE_SEQ` (see the layout table in ring.ts). */
export const SPACE_SEQ = 7;
/** Word `PRODUCERS` (see the layout table in ring.ts). */
export const PRODUCERS = 8;
/** Word `MAX_SIZE` (see the layout table in ring.ts). */
export const MAX_SIZE = 9;
/** Word `STATE` (see the layout table in ring.ts). */
export const STATE = 10;
/** Word `UNFINISHED` (see the layout table in ring.ts). */
export const UNFINISHED = 11;
/** Word `JOIN_SEQ` (see the layout table in ring.ts). */
export const JOIN_SEQ = 12;
/** Word `CAPACITY` (see the layout table in ring.ts). */
export const CAPACITY = 13;
/** First of the two words `HANDED` (see the layout table in ring.ts). */
export const HANDED = 14;
/** Hand-over slots (`HANDED` and the word after it). */
export const HAND_OVER_SLOTS = 2;
/** Control words, then the data area. */
export const HEADER_WORDS = 16;
/** Bytes before the data area. */
export const HEADER_BYTES = HEADER_WORDS * 4;

/** `STATE`: open. */
export const OPEN = 0;
/** `STATE`: shut down (gets drain, then fail). */
export const SHUT = 1;
/** `STATE`: shut down immediately (contents discarded). */
export const SHUT_IMMEDIATE = 2;
