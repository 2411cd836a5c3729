import type { Readable, Writable } from "node:stream";

/**
 * Like `from.pipe(to)`, but the pieces one event-loop turn brings leave in one write (see `batchedWriter`). When
 * `from` ends, `to` is ended.
 */
export function pipeBatched(from: Readable, to: Writable): void {
  from.on(
    "data",
    batchedWriter(
      to,
      to,
      () => from.pause(),
      () => from.resume(),
    ),
  );
  from.once("end", () => {
    if (!to.destroyed) to.end();
  });
}

/**
 * A function that writes pieces into `to` so that the pieces of one event-loop turn leave in one write. HTTP/2
 * hands a DATA frame over in one or two pieces (16 KiB frames split by 16 KiB TLS records); written one by one,
 * each cost a system call, most of the tunnel server's CPU per byte. `socket` (the socket under `to`, or `to`
 * itself) is corked at the first piece and uncorked once the turn's I/O is done (setImmediate); the source is
 * paused only then, and only if the kernel did not take everything. Without a socket yet (a response queued behind
 * a pipelined one), each write's own backpressure pauses the source.
 */
export function batchedWriter(
  to: Writable,
  socket: Writable | null,
  pause: () => void,
  resume: () => void,
): (piece: Buffer) => void {
  let waiting = false;
  const wait = (on: Writable) => {
    if (waiting) return;
    waiting = true;
    pause();
    on.once("drain", () => {
      waiting = false;
      resume();
    });
  };
  if (!socket) {
    return (piece) => {
      if (!to.destroyed && !to.write(piece)) wait(to);
    };
  }
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
    if (socket.writableLength > 0 && socket.writableNeedDrain && !socket.destroyed) wait(socket);
  };
  return (piece) => {
    if (!held) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    if (!to.destroyed) to.write(piece);
  };
}
