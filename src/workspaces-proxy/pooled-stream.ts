// A connection into a pod as Node's http Agent keeps it: the Agent was written for net.Socket and calls its
// connection-management methods on every socket it pools (setKeepAlive, unref and setTimeout when a request ends,
// ref when one reuses it). A dial that is not a TCP socket (a port-forward over the API server's WebSocket) gets
// them here.
import { Socket } from "node:net";
import type { Duplex } from "node:stream";

type SocketLike = Duplex & {
  timeout?: number;
  setTimeout(ms: number, callback?: () => void): SocketLike;
  setKeepAlive(enable?: boolean, initialDelay?: number): SocketLike;
  setNoDelay(noDelay?: boolean): SocketLike;
  ref(): SocketLike;
  unref(): SocketLike;
};

export function asPooledSocket(stream: Duplex): Socket {
  if (stream instanceof Socket) return stream;
  const socket = stream as SocketLike;
  let idle: NodeJS.Timeout | undefined;
  const rearm = () => idle?.refresh();
  // The Agent drops a free connection when it has been idle longer than the pod's server keeps it (its
  // Keep-Alive hint): 'timeout' after that long with no bytes either way, as net.Socket's idle timeout.
  socket.setTimeout = (ms, callback) => {
    clearTimeout(idle);
    idle = undefined;
    socket.timeout = ms;
    if (callback) socket.once("timeout", callback);
    if (ms > 0) idle = setTimeout(() => socket.emit("timeout"), ms).unref();
    return socket;
  };
  const push = socket.push.bind(socket);
  socket.push = (chunk, encoding) => {
    rearm();
    return push(chunk, encoding);
  };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    rearm();
    return write(...args);
  }) as typeof socket.write;
  socket.once("close", () => clearTimeout(idle));
  // TCP options and the event loop's reference belong to the transport under the stream (the WebSocket's own
  // connection to the API server), which the stream does not expose.
  socket.setKeepAlive = () => socket;
  socket.setNoDelay = () => socket;
  socket.ref = () => socket;
  socket.unref = () => socket;
  return socket as unknown as Socket;
}
