import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameDecoder, frameHeader, ProtocolError } from "@ipc/core";

function encode(frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [frameHeader(f.length), Buffer.from(f)]));
}

describe("FrameDecoder", () => {
  it("splits a stream cut at arbitrary points back into the same frames", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const stream = encode(frames);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new FrameDecoder();
          const out: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, stream.length]) {
            out.push(...d.push(stream.subarray(prev, p)));
            prev = p;
          }
          expect(out.map((b) => [...b])).toEqual(frames.map((f) => [...f]));
          expect(d.pending).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("holds a truncated frame without emitting or hanging", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (frame, cut) => {
        const stream = encode([frame]);
        const at = cut % stream.length;
        const d = new FrameDecoder();
        expect(d.push(stream.subarray(0, at))).toEqual([]);
        expect(d.pending).toBe(at);
      }),
    );
  });

  it("never crashes on random bytes: frames or a ProtocolError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder(1024);
        try {
          for (const c of chunks) for (const f of d.push(c)) expect(f.length).toBeLessThanOrEqual(1024);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses an oversized frame from its header alone", () => {
    const d = new FrameDecoder(16);
    expect(() => d.push(frameHeader(17))).toThrow(/17 bytes exceeds the limit of 16/);
  });
});
