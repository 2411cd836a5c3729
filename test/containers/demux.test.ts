import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { demuxDockerStream, muxDockerStream } from "../../src/containers/demux.ts";

describe("Docker stream demultiplexing", () => {
  it("gives back what each stream carried, in order", () => {
    const frame = fc.record({
      stream: fc.constantFrom("stdout" as const, "stderr" as const),
      text: fc.string(),
    });
    fc.assert(
      fc.property(fc.array(frame), (frames) => {
        const muxed = muxDockerStream(frames.map((f) => ({ stream: f.stream, data: Buffer.from(f.text) })));
        const { stdout, stderr } = demuxDockerStream(muxed);
        expect(stdout).toBe(
          frames
            .filter((f) => f.stream === "stdout")
            .map((f) => f.text)
            .join(""),
        );
        expect(stderr).toBe(
          frames
            .filter((f) => f.stream === "stderr")
            .map((f) => f.text)
            .join(""),
        );
      }),
    );
  });
});
