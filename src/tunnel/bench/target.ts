import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

const BLOCK = Buffer.alloc(256 * 1024, 0x61);

/**
 * The one HTTP server every mode is measured against: GET /small (2 bytes), GET /bytes/<n> (n bytes),
 * POST /sink (counts what it got), WebSocket /ws (echo).
 */
export function createBenchTarget(): http.Server {
  const server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
    const url = req.url ?? "/";
    if (url === "/small") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
      res.end("ok");
      return;
    }
    if (url.startsWith("/bytes/")) {
      const total = Number(url.slice(7));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(BLOCK.length, total - sent);
          sent += n;
          if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    if (url === "/sink") {
      let bytes = 0;
      req.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      req.on("end", () => {
        const body = String(bytes);
        res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
        res.end(body);
      });
      return;
    }
    res.writeHead(404, { "content-length": 0 });
    res.end();
  });
  const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  return server;
}

/** Entry point when run as its own process: prints PORT=<n> once listening. */
export async function runBenchTarget(): Promise<void> {
  const server = createBenchTarget();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`PORT=${(server.address() as AddressInfo).port}\n`);
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
}
