import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";

export interface ConnectTunnelOptions {
  /** The tunnel server's user listener: http://host:port or https://host:port. */
  url: URL;
  workspace: string;
  port: number;
  token: string;
  /** Needed for the host form of the CONNECT target; without it `<workspace>:<port>` is sent. */
  domain?: string;
  ca?: string | Buffer;
  insecure?: boolean;
  timeoutMs?: number;
}

/** Thrown when the tunnel server answers CONNECT with anything but 200. */
export class ConnectRefused extends Error {
  override name = "ConnectRefused";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens a raw TCP stream to a workspace port through the user listener with HTTP CONNECT (what
 * `wsparity tunnel connect` does for ssh's ProxyCommand). Resolves once the server answered 200.
 */
export function openConnectTunnel(options: ConnectTunnelOptions): Promise<Duplex> {
  const { url } = options;
  const secure = url.protocol === "https:";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (secure ? 443 : 80));
  const target = options.domain
    ? `${options.port}-${options.workspace}.${options.domain}:443`
    : `${options.workspace}:${options.port}`;
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) ? undefined : host,
          ca: options.ca,
          rejectUnauthorized: !options.insecure,
          ALPNProtocols: ["http/1.1"],
        })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to CONNECT from ${url.origin} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    socket.write(
      `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Bearer ${options.token}\r\n\r\n`,
    );
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end === -1) {
        if (received.length > 16 * 1024) fail(new Error("CONNECT answer header larger than 16 KiB"));
        return;
      }
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", onClose);
      clearTimeout(timer);
      const head = received.subarray(0, end).toString("latin1");
      const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
      if (status !== 200) {
        socket.destroy();
        const body = received
          .subarray(end + 4)
          .toString("utf8")
          .trim();
        reject(
          new ConnectRefused(
            status,
            `tunnel server refused CONNECT ${target}: ${head.split("\r\n")[0]}${body ? ` — ${body}` : ""}`,
          ),
        );
        return;
      }
      socket.pause();
      const rest = received.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onClose = () =>
      fail(new Error(`tunnel server ${url.origin} closed the connection before answering CONNECT`));
    socket.on("data", onData);
    socket.once("error", fail);
    socket.once("close", onClose);
  });
}
