import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "@ipc/core";
import { FrameDecoder, frameHeader } from "@ipc/core/internal";

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

describe("FrameDecoder: long and large frames", () => {
  it("reads Python's long header (0xFFFFFFFF + 8-byte length), split anywhere, and writes it from 2 GiB on", () => {
    const payload = Buffer.from("long form");
    const header = Buffer.alloc(12);
    header.writeUInt32BE(0xffffffff, 0);
    header.writeBigUInt64BE(BigInt(payload.length), 4);
    const stream = Buffer.concat([header, payload, frameHeader(2), Buffer.from("ok")]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(out.map((b) => b.toString())).toEqual(["long form", "ok"]);
      expect(d.pending).toBe(0);
    }
    expect([...frameHeader(2 ** 31 - 1)]).toEqual([0x7f, 0xff, 0xff, 0xff]);
    expect([...frameHeader(2 ** 31)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0]);
    expect([...frameHeader(5 * 2 ** 32 + 7)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 5, 0, 0, 0, 7]);
  });

  it("refuses a malformed length word and a long header past the limit", () => {
    expect(() => new FrameDecoder().push(Buffer.from([0x80, 0, 0, 0]))).toThrow(/malformed frame header/);
    const header = Buffer.alloc(12);
    header.writeUInt32BE(0xffffffff, 0);
    header.writeBigUInt64BE(2n ** 40n, 4);
    expect(() => new FrameDecoder().push(header)).toThrow(ProtocolError);
  });

  it("fills a large frame in place as its chunks arrive, counting what it holds", () => {
    const n = 3 * 1024 * 1024 + 5;
    const payload = Buffer.alloc(n);
    for (let i = 0; i < n; i += 97) payload[i] = i & 0xff;
    const stream = Buffer.concat([frameHeader(3), Buffer.from("abc"), frameHeader(n), payload, frameHeader(1), Buffer.from("z")]);
    const d = new FrameDecoder();
    const out: Buffer[] = [];
    let fed = 0;
    for (let at = 0; at < stream.length; at += 65536 + 13) {
      const chunk = stream.subarray(at, Math.min(at + 65536 + 13, stream.length));
      out.push(...d.push(chunk));
      fed += chunk.length;
      const emitted = out.reduce((s, f) => s + f.length + (f.length === n ? 4 : 4), 0);
      expect(d.pending).toBe(fed - emitted);
    }
    expect(out.map((f) => f.length)).toEqual([3, n, 1]);
    expect(Buffer.compare(out[1]!, payload)).toBe(0);
    expect(d.pending).toBe(0);
  });
});
