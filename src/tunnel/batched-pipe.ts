import type { Readable, Writable } from "node:stream";

/**
 * Like `from.pipe(to)`, but the pieces one event-loop turn brings leave in one write. HTTP/2 hands a DATA frame
 * over in one or two pieces (16 KiB frames split by 16 KiB TLS records); written one by one, each cost a system
 * call, most of the tunnel server's CPU per byte. `socket` (the stream under `to`, or `to` itself) is corked at
 * the first piece and uncorked once the turn's I/O is done (setImmediate); `from` pauses only then, and only
 * if the kernel did not take everything. When `from` ends, `end` runs (by default `to.end()`).
 */
export function pipeBatched(
  from: Readable,
  to: Writable,
  socket: Writable = to,
  end: () => void = () => {
    if (!to.destroyed) to.end();
  },
): void {
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
    if (socket.writableLength > 0 && socket.writableNeedDrain && !socket.destroyed) {
      from.pause();
      socket.once("drain", () => from.resume());
    }
  };
  from.on("data", (chunk: Buffer) => {
    if (!held) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    if (!to.destroyed) to.write(chunk);
  });
  from.once("end", end);
}
