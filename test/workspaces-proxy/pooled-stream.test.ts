// A non-socket stream pooled by Node's http Agent: the socket methods the Agent calls, and an idle timeout that
// bytes either way push back, as net.Socket's.
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, Socket } from "node:net";
import { Duplex } from "node:stream";
import { expect, it } from "vitest";
import { asPooledSocket } from "../../src/workspaces-proxy/pooled-stream.ts";

const idleStream = () =>
  new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });

it("hands a net.Socket through unchanged", () => {
  const socket = new Socket();
  expect(asPooledSocket(socket)).toBe(socket);
  socket.destroy();
});

it("times out after the idle time, later for every byte either way, and never once set to 0", async () => {
  const stream = asPooledSocket(idleStream());
  const started = Date.now();
  const timedOut = new Promise<number>((resolve) =>
    stream.setTimeout(150, () => resolve(Date.now() - started)),
  );
  const traffic = setInterval(() => {
    stream.write("x");
    stream.push("y");
  }, 50);
  setTimeout(() => clearInterval(traffic), 300);
  // Without the traffic it fires at 150 ms; the last byte goes at 250 or 300 ms.
  expect(await timedOut).toBeGreaterThanOrEqual(350);
  let fired = false;
  stream.on("timeout", () => (fired = true));
  stream.setTimeout(0);
  await new Promise((r) => setTimeout(r, 250));
  expect(fired).toBe(false);
  stream.destroy();
});

it("serves requests kept alive in an http Agent's pool", async () => {
  const server = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as AddressInfo;
  let dials = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agent.createConnection = ((_o: unknown, done: (err: Error | null, s?: unknown) => void) => {
    dials++;
    // A Duplex that is not a net.Socket, over a TCP connection, as a port-forward's stream is over its WebSocket.
    const tcp = connect(port, "127.0.0.1");
    const stream = new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        tcp.write(chunk, callback);
      },
      destroy(err, callback) {
        tcp.destroy();
        callback(err);
      },
    });
    tcp.on("data", (d) => stream.push(d));
    tcp.on("end", () => stream.push(null));
    done(null, asPooledSocket(stream));
    return undefined;
  }) as unknown as Agent["createConnection"];
  try {
    for (let i = 0; i < 5; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, agent, path: "/" }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      expect(body).toBe("ok");
    }
    expect(dials).toBe(1);
  } finally {
    agent.destroy();
    server.close();
  }
});
