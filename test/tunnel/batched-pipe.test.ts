import { PassThrough, Writable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pipeBatched } from "../../src/tunnel/batched-pipe.ts";

/** A destination that records each write call (one per writev batch) and what it received, slowly if asked. */
function recorder(highWaterMark: number, slow: boolean) {
  const calls: number[] = [];
  const received: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    writev(chunks, cb) {
      calls.push(chunks.length);
      for (const c of chunks) received.push(c.chunk as Buffer);
      if (slow) setTimeout(cb, 1);
      else cb();
    },
    write(chunk, _encoding, cb) {
      calls.push(1);
      received.push(chunk as Buffer);
      if (slow) setTimeout(cb, 1);
      else cb();
    },
  });
  return { sink, calls, received };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("pipeBatched", () => {
  it("delivers every byte in order and ends the destination, whatever the pieces, turns and backpressure", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { maxLength: 6 }), {
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 32 * 1024 }),
        fc.boolean(),
        async (turns, highWaterMark, slow) => {
          const from = new PassThrough();
          const { sink, received } = recorder(highWaterMark, slow);
          const finished = new Promise((resolve) => sink.once("finish", resolve));
          pipeBatched(from, sink);
          for (const pieces of turns) {
            for (const piece of pieces) from.write(Buffer.from(piece));
            await turn();
          }
          from.end();
          await finished;
          const sent = Buffer.concat(turns.flat().map((p) => Buffer.from(p)));
          expect(Buffer.concat(received).equals(sent)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("sends the pieces of one turn in one write", async () => {
    const from = new PassThrough();
    const { sink, calls } = recorder(16 * 1024, false);
    pipeBatched(from, sink);
    for (let i = 0; i < 8; i++) from.write(Buffer.alloc(8 * 1024, i));
    await turn();
    await turn();
    expect(calls).toEqual([8]);
  });
});
