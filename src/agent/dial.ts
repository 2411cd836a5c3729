import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { WebSocket } from "ws";
import { webSocketStream } from "../tunnel/websocket-stream.ts";

export interface DialOptions {
  /** PEM of the CA that signed the server's certificate (TLS and wss only). */
  ca?: string | Buffer;
  /** Skip certificate checks: for throwaway certificates in tests only. */
  insecure?: boolean;
  timeoutMs: number;
}

/**
 * Opens a byte stream to the tunnel server: tcp://host:port, tls://host:port, ws://host:port/-/agent, wss://…,
 * or unix:///path for a server socket in a folder the agent's sandbox shares (a pod with no route to the host).
 */
export function dial(url: URL, options: DialOptions): Promise<Duplex> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket?.destroy();
      reject(new Error(`no connection to ${url.origin || url.href} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const done = (stream: Duplex) => {
      clearTimeout(timer);
      resolve(stream);
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    let socket: Duplex | undefined;
    switch (url.protocol) {
      case "tcp:": {
        const s = net.connect({ host, port, noDelay: true }, () => done(s));
        s.once("error", fail);
        socket = s;
        break;
      }
      case "unix:": {
        const s = net.connect({ path: decodeURIComponent(url.pathname) }, () => done(s));
        s.once("error", fail);
        socket = s;
        break;
      }
      case "tls:": {
        const s = tls.connect(
          {
            host,
            port,
            servername: net.isIP(host) ? undefined : host,
            ca: options.ca,
            rejectUnauthorized: !options.insecure,
          },
          () => {
            s.setNoDelay(true);
            done(s);
          },
        );
        s.once("error", fail);
        socket = s;
        break;
      }
      case "ws:":
      case "wss:": {
        const ws = new WebSocket(url, {
          perMessageDeflate: false,
          ca: options.ca,
          rejectUnauthorized: !options.insecure,
          maxPayload: 16 * 1024 * 1024,
        });
        ws.once("open", () => done(webSocketStream(ws)));
        ws.once("error", fail);
        ws.once("unexpected-response", (_req, res) =>
          fail(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`)),
        );
        break;
      }
      default:
        fail(new Error(`server URL ${url.href} must start with tcp://, tls://, ws://, wss:// or unix://`));
    }
  });
}
