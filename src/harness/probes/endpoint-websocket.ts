import WebSocket from "ws";
import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

// The editor's terminal is a WebSocket endpoint every workspace has: the upgrade, both directions
// and a long-lived connection go through the same URL as any app's WebSocket would.
export const endpointWebsocket: Probe = {
  id: "endpoint.websocket",
  async run({ ws }) {
    const url = ws.url(EDITOR_PORT, "/terminal").replace(/^http/, "ws");
    const socket = new WebSocket(url, {
      headers: ws.authHeaders(),
      handshakeTimeout: 10_000,
      ...(ws.resolution ? { lookup: ws.resolution.lookup } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("unexpected-response", (_req, res) =>
          reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)),
        );
        socket.once("error", reject);
      });
      const rounds: number[] = [];
      for (let i = 0; i < 3; i++) {
        const marker = `ws-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const t0 = performance.now();
        const reply = await new Promise<string>((resolve, reject) => {
          socket.once("message", (d) => resolve(d.toString()));
          socket.once("close", () => reject(new Error("closed before replying")));
          socket.send(`echo ${marker}`);
        });
        if (!reply.includes(marker))
          return unsupported(`WS ${url}: sent "echo ${marker}", got ${reply.slice(0, 100)}`);
        rounds.push(performance.now() - t0);
      }
      return supported(`WS ${url}: 3 command round trips in ${rounds.map((r) => r.toFixed(0)).join("/")} ms`);
    } catch (err) {
      return unsupported(`WS ${url}: ${(err as Error).message}`);
    } finally {
      socket.terminate();
    }
  },
};
