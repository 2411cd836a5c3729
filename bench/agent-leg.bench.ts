// npm run bench:agent-leg — what the agent's leg costs as the tunnel carries it (one HTTP/2 stream over TLS,
// the protocol's settings) against one TLS connection per stream (no multiplexing): a sender process ("agent")
// writes BENCH_LEG_MIB MiB to a receiver process ("server") that counts it, in interleaved rounds
// (BENCH_LEG_ROUNDS). Prints each side's CPU time per GiB from its connection on (process.cpuUsage) and,
// per round, HTTP/2's total ÷ plain TLS's. CPU per GiB, not MB/s, is the figure to read on a busy machine.
import { type ChildProcess, fork } from "node:child_process";
import http2 from "node:http2";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { makeThrowawayCert } from "../src/tunnel/certs.ts";
import { CONNECTION_WINDOW_BYTES, H2_SETTINGS } from "../src/tunnel/protocol.ts";

type Leg = "tls" | "h2";
interface Done {
  cpuMs: number;
}

const BYTES = Number(process.env.BENCH_LEG_MIB ?? 1024) * 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_LEG_ROUNDS ?? 5);
const BLOCK = Buffer.alloc(64 * 1024, 0x61);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Writes BYTES into `sink` in 64 KiB blocks (a workspace socket's read size), honouring backpressure. */
function pump(sink: NodeJS.WritableStream, done: () => void): void {
  let sent = 0;
  const go = () => {
    while (sent < BYTES) {
      sent += BLOCK.length;
      if (!sink.write(BLOCK)) {
        sink.once("drain", go);
        return;
      }
    }
    done();
  };
  go();
}

function receive(leg: Leg, key: string, cert: string): void {
  const send = (message: unknown) => process.send?.(message);
  let start = 0;
  const count = (stream: NodeJS.ReadableStream) => {
    let n = 0;
    stream.on("data", (chunk: Buffer) => {
      n += chunk.length;
      if (n >= BYTES) send({ cpuMs: cpuMs() - start });
    });
  };
  const server = tls.createServer({ key, cert, ALPNProtocols: ["h2"] }, (socket) => {
    start = cpuMs();
    socket.setNoDelay(true);
    if (leg === "tls") return count(socket);
    // As the tunnel server: the HTTP/2 client over the agent's connection, opening one CONNECT stream.
    const session = http2.connect("http://agent.invalid", {
      createConnection: () => socket,
      settings: H2_SETTINGS,
    });
    session.once("connect", () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
    count(session.request({ ":method": "CONNECT", ":authority": "127.0.0.1:1" }, { endStream: false }));
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    send({ port: typeof address === "object" && address ? address.port : 0 });
  });
}

function sendBytes(leg: Leg, port: number, ca: string): void {
  const start = 0;
  const done = () => process.send?.({ cpuMs: cpuMs() - start });
  const socket = tls.connect(
    { port, host: "127.0.0.1", ca, servername: "localhost", ALPNProtocols: ["h2"] },
    () => {
      socket.setNoDelay(true);
      if (leg === "tls") return pump(socket, done);
      // As the agent: the HTTP/2 server, answering the CONNECT stream and writing the workspace's bytes into it.
      const session = http2.performServerHandshake(socket, { settings: H2_SETTINGS });
      session.once("localSettings", () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
      session.on("stream", (stream) => {
        stream.respond({ ":status": 200 });
        pump(stream, done);
      });
    },
  );
}

const next = <T>(child: ChildProcess) =>
  new Promise<T>((resolve) => child.once("message", (m) => resolve(m as T)));

async function main(): Promise<void> {
  const { key, cert, ca } = await makeThrowawayCert();
  const self = fileURLToPath(import.meta.url);
  const env = { ...process.env, BENCH_LEG_KEY: key, BENCH_LEG_CERT: cert, BENCH_LEG_CA: ca };
  const gib = BYTES / 1024 ** 3;
  const results: Record<Leg, number[]> = { tls: [], h2: [] };
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const leg of ["tls", "h2"] as Leg[]) {
      const receiver = fork(self, ["receive", leg], { env, execArgv: ["--import", "tsx"] });
      const { port } = await next<{ port: number }>(receiver);
      const started = Date.now();
      const sender = fork(self, ["send", leg, String(port)], { env, execArgv: ["--import", "tsx"] });
      const [s, r] = await Promise.all([next<Done>(sender), next<Done>(receiver)]);
      const seconds = (Date.now() - started) / 1000;
      sender.kill();
      receiver.kill();
      const total = (s.cpuMs + r.cpuMs) / gib;
      results[leg].push(total);
      console.log(
        `round ${round} ${leg.padEnd(3)}  agent ${Math.round(s.cpuMs / gib)} ms/GiB  server ${Math.round(r.cpuMs / gib)} ms/GiB  total ${Math.round(total)}  ${Math.round(BYTES / 1e6 / seconds)} MB/s`,
      );
    }
    ratios.push(results.h2.at(-1)! / results.tls.at(-1)!);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `CPU per GiB, HTTP/2 over TLS ÷ TLS per stream: median ${median(ratios).toFixed(2)} (rounds ${ratios.map((x) => x.toFixed(2)).join(" ")}); ` +
      `1-minute load ${(await import("node:os")).loadavg()[0]!.toFixed(2)}`,
  );
}

const [role, leg, port] = process.argv.slice(2);
if (role === "receive") receive(leg as Leg, process.env.BENCH_LEG_KEY!, process.env.BENCH_LEG_CERT!);
else if (role === "send") sendBytes(leg as Leg, Number(port), process.env.BENCH_LEG_CA!);
else await main();
