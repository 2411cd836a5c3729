import type { Duplex } from "node:stream";

/**
 * Pipes two byte streams both ways until both are closed. When one side ends cleanly, the other is half-closed
 * and left to flush what it still holds (cut after `lingerMs`); when one side fails or is reset, both are
 * destroyed at once. `onClosed` runs once, after both sides have closed.
 */
export function splice(a: Duplex, b: Duplex, onClosed?: () => void, lingerMs = 30_000): void {
  let open = 2;
  const closed = () => {
    if (--open === 0) onClosed?.();
  };
  const abort = () => {
    a.destroy();
    b.destroy();
  };
  const follow = (gone: Duplex, other: Duplex) => {
    closed();
    if (other.destroyed) return;
    if (!gone.readableEnded) {
      other.destroy();
      return;
    }
    const cut = setTimeout(() => other.destroy(), lingerMs);
    cut.unref();
    other.once("close", () => clearTimeout(cut));
  };
  a.on("error", abort);
  b.on("error", abort);
  a.once("close", () => follow(a, b));
  b.once("close", () => follow(b, a));
  a.pipe(b);
  b.pipe(a);
}
