import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { pipeBatched } from "./batched-pipe.ts";

/**
 * Pipes two byte streams both ways until both are closed. When one side ends cleanly (a half-close), the other
 * is ended too and left to flush what it still holds; from then on, `idleMs` without a byte in either direction
 * cuts both, so a peer that never closes its half cannot keep the pair open for ever. A side that closes
 * without ending cleanly (failed, reset) takes the other with it at once; one that closes after ending lets the
 * other flush first. `onClosed` runs once, after both sides have closed.
 */
export function splice(a: Duplex, b: Duplex, onClosed?: () => void, idleMs = 30_000): void {
  let open = 2;
  let idle: NodeJS.Timeout | undefined;
  const closed = () => {
    if (--open > 0) return;
    clearTimeout(idle);
    onClosed?.();
  };
  const abort = () => {
    clearTimeout(idle);
    a.destroy();
    b.destroy();
  };
  const halfClosed = () => {
    if (idle) return;
    idle = setTimeout(abort, idleMs);
    idle.unref();
    const activity = () => idle?.refresh();
    a.on("data", activity);
    b.on("data", activity);
  };
  // Once one side is gone, nothing the other reads can go anywhere: it only has to flush what it was sent.
  const follow = (gone: Duplex, other: Duplex) => {
    closed();
    if (other.destroyed) return;
    if (!gone.readableEnded || other.writableFinished) other.destroy();
    else {
      halfClosed();
      other.once("finish", () => other.destroy());
    }
  };
  a.on("error", abort);
  b.on("error", abort);
  a.once("end", halfClosed);
  b.once("end", halfClosed);
  a.once("close", () => follow(a, b));
  b.once("close", () => follow(b, a));
  pipeInto(a, b);
  pipeInto(b, a);
}

/**
 * Writes into a kernel socket are batched per event-loop turn (each write is a system call, and HTTP/2 hands
 * its bytes over in pieces of at most 16 KiB); an HTTP/2 stream gathers its frames into one write per turn
 * itself, so it is piped as before.
 */
function pipeInto(from: Duplex, to: Duplex): void {
  if (to instanceof Socket) pipeBatched(from, to);
  else from.pipe(to);
}
