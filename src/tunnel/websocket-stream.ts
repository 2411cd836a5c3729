import type { Duplex } from "node:stream";
import { createWebSocketStream, type WebSocket } from "ws";

/**
 * A WebSocket as a byte stream for HTTP/2, destroyed once the WebSocket has closed. ws's own stream only
 * ends its readable side on close; its write side finishes only when the TCP socket emits 'finish', which a
 * socket that was cut never does. HTTP/2 ends a session by ending its socket and destroys it in that end's
 * callback, so the callback never came: the session, Node's JSStreamSocket around the stream and the
 * WebSocket stayed reachable from the JSStream handle for the life of the process (~6 KiB a connection).
 */
export function webSocketStream(ws: WebSocket): Duplex {
  const stream = createWebSocketStream(ws);
  // After the bytes ws pushed before its close have been read (setImmediate runs after the 'data' and
  // 'end' ticks), destroying calls the pending end callbacks with ERR_STREAM_DESTROYED.
  ws.once("close", () => setImmediate(() => stream.destroy()));
  return stream;
}
