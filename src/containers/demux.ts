/**
 * Splits Docker's multiplexed stream format (non-TTY attach, exec and logs): frames of an 8-byte header
 * (stream type: 1 stdout, 2 stderr; bytes 4-7 the payload length, big-endian) followed by the payload.
 */
export function demuxDockerStream(buffer: Buffer): { stdout: string; stderr: string } {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset];
    const length = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === 2) stderr.push(payload);
    else stdout.push(payload);
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
}

/** The inverse, for tests: one frame per chunk. */
export function muxDockerStream(frames: { stream: "stdout" | "stderr"; data: Buffer }[]): Buffer {
  return Buffer.concat(
    frames.flatMap(({ stream, data }) => {
      const header = Buffer.alloc(8);
      header[0] = stream === "stdout" ? 1 : 2;
      header.writeUInt32BE(data.length, 4);
      return [header, data];
    }),
  );
}
