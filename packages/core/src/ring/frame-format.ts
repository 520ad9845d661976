/**
 * A ring frame's layout (see the header of ring.ts): a u32 header, a u32 holding the item's total
 * length in its first frame, then the payload padded to 8 bytes. Header bits: 31 FIRST, 30 LAST,
 * 29 HAND_OVER, 0-28 the payload length; `WRAP` (all ones) means "skip to the start of the ring".
 */

/** Header bit: the item's first frame. */
export const FIRST = 0x80000000;
/** Header bit: the item's last frame. */
export const LAST = 0x40000000;
/** Header bit: a hand-over frame (a token, not bytes). */
export const HAND_OVER = 0x20000000;
/** Header bits of the payload length. */
export const LENGTH_MASK = 0x1fffffff;
/** A header that sends readers to the start of the ring. */
export const WRAP = 0xffffffff;

/** `n` rounded up to a multiple of 8. */
export const pad8 = (n: number): number => (n + 7) & ~7;

/** The bytes a one-frame item of `n` payload bytes takes in a ring. */
export const frameBytes = (n: number): number => 8 + pad8(n);
