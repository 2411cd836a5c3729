// The agent WebSocket as HTTP/2's byte stream: once the WebSocket has closed, the stream is destroyed, so an
// end() HTTP/2 issued to close its session gets its callback (issue 12: without it, every WebSocket agent
// that was cut left its session, JSStreamSocket and WebSocket reachable for good, +6 MiB of JS heap per
// 1,000 cycles — test/reliability/tunnel-cycles.reliability.test.ts measures that).

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { webSocketStream } from "../../src/tunnel/websocket-stream.ts";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A server-side agent stream whose WebSocket is cut (`how`), read to its end. */
async function cutStream(how: (server: WebSocket, client: WebSocket) => void): Promise<Duplex> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  closers.push(() => {
    wss.close();
    http.closeAllConnections();
    http.close();
  });
  const accepted = new Promise<[Duplex, WebSocket]>((resolve) =>
    wss.once("connection", (ws) => {
      const stream = webSocketStream(ws);
      stream.on("error", () => {});
      stream.resume();
      resolve([stream, ws]);
    }),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  await new Promise((r) => client.once("open", r));
  const [stream, server] = await accepted;
  how(server, client);
  await new Promise((r) => stream.once("end", r));
  return stream;
}

describe("webSocketStream", () => {
  it.each([
    ["the agent went without a close frame", (_s: WebSocket, client: WebSocket) => client.terminate()],
    ["the server's socket was destroyed", (server: WebSocket) => server.terminate()],
  ])("calls back an end() issued after the WebSocket was cut (%s), and is destroyed", async (_how, how) => {
    const stream = await cutStream(how);
    const ended = await new Promise<string>((resolve) => {
      stream.end(() => resolve("called back"));
      setTimeout(() => resolve("still waiting after 2 s"), 2000).unref();
    });
    expect(ended).toBe("called back");
    expect(stream.destroyed).toBe(true);
  });
});
