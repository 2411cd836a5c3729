import http from "node:http";
import https from "node:https";
import hdr from "hdr-histogram-js";
import { WebSocket } from "ws";
import type { ModeEndpoint } from "./setup.ts";

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

type Agent = http.Agent | https.Agent;

export type Histogram = ReturnType<typeof histogram>;

export function histogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function summarize(h: Histogram): LatencySummary {
  return {
    p50: h.getValueAtPercentile(50),
    p95: h.getValueAtPercentile(95),
    p99: h.getValueAtPercentile(99),
    max: Math.round(h.maxValue),
    count: h.totalCount,
  };
}

function agentFor(ep: ModeEndpoint, maxSockets: number, keepAlive = true): Agent {
  return ep.secure
    ? new https.Agent({ keepAlive, maxSockets, ca: ep.ca, servername: ep.servername })
    : new http.Agent({ keepAlive, maxSockets });
}

/** One request; resolves with the status and the number of body bytes once the body has been read. */
function exchange(
  ep: ModeEndpoint,
  agent: Agent | false,
  method: string,
  path: string,
  upload?: { bytes: number; block: Buffer },
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: "127.0.0.1",
      port: ep.port,
      method,
      path,
      agent,
      headers: {
        ...ep.headers,
        ...extraHeaders,
        ...(upload ? { "content-length": String(upload.bytes) } : {}),
      },
      ...(ep.secure ? { ca: ep.ca, servername: ep.servername } : {}),
    };
    const req = (ep.secure ? https : http).request(options, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (!upload) {
      req.end();
      return;
    }
    let sent = 0;
    const pump = () => {
      while (sent < upload.bytes) {
        const n = Math.min(upload.block.length, upload.bytes - sent);
        sent += n;
        if (!req.write(n === upload.block.length ? upload.block : upload.block.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function expectOk(result: { status: number }, what: string, ep: ModeEndpoint): void {
  if (result.status !== 200) throw new Error(`${ep.name}: ${what} answered HTTP ${result.status}`);
}

/**
 * Sequential small requests, each mode on its own keep-alive connection, taking turns request by request
 * (mode 1, mode 2, …, mode 1, …) so that load from elsewhere on the machine falls on every mode alike.
 * After a warm-up, each round trip is recorded into that mode's histogram (µs).
 */
export async function measureLatencyInterleaved(
  eps: ModeEndpoint[],
  count: number,
  warmup: number,
  histograms: Map<ModeEndpoint["name"], Histogram>,
): Promise<void> {
  const agents = eps.map((ep) => agentFor(ep, 1));
  try {
    for (let i = 0; i < warmup + count; i++) {
      for (const [k, ep] of eps.entries()) {
        const started = process.hrtime.bigint();
        const r = await exchange(ep, agents[k]!, "GET", "/small");
        const us = Number(process.hrtime.bigint() - started) / 1000;
        expectOk(r, "GET /small", ep);
        if (i >= warmup) histograms.get(ep.name)!.recordValue(Math.max(1, us));
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
}

const MB = 1_000_000;
const UPLOAD_BLOCK = Buffer.alloc(256 * 1024, 0x62);

export async function measureDownload(ep: ModeEndpoint, bytes: number): Promise<number> {
  const agent = agentFor(ep, 1);
  try {
    const started = performance.now();
    const r = await exchange(ep, agent, "GET", `/bytes/${bytes}`);
    const seconds = (performance.now() - started) / 1000;
    expectOk(r, "download", ep);
    if (r.bytes !== bytes) throw new Error(`${ep.name}: download got ${r.bytes} of ${bytes} bytes`);
    return bytes / MB / seconds;
  } finally {
    agent.destroy();
  }
}

export async function measureUpload(ep: ModeEndpoint, bytes: number): Promise<number> {
  const agent = agentFor(ep, 1);
  try {
    const started = performance.now();
    const r = await exchange(ep, agent, "POST", "/sink", { bytes, block: UPLOAD_BLOCK });
    const seconds = (performance.now() - started) / 1000;
    expectOk(r, "upload", ep);
    return bytes / MB / seconds;
  } finally {
    agent.destroy();
  }
}

/** Aggregate throughput of `streams` downloads at once, each on its own connection. */
export async function measureConcurrent(
  ep: ModeEndpoint,
  streams: number,
  bytesEach: number,
): Promise<number> {
  const agent = agentFor(ep, streams);
  try {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: streams }, () => exchange(ep, agent, "GET", `/bytes/${bytesEach}`)),
    );
    const seconds = (performance.now() - started) / 1000;
    let total = 0;
    for (const r of results) {
      expectOk(r, "concurrent download", ep);
      total += r.bytes;
    }
    if (total !== streams * bytesEach) throw new Error(`${ep.name}: concurrent downloads got ${total} bytes`);
    return total / MB / seconds;
  } finally {
    agent.destroy();
  }
}

/** Round trips of a 32-byte WebSocket message on one connection, after a warm-up. */
export async function measureWebSocketEcho(
  ep: ModeEndpoint,
  count: number,
  warmup: number,
): Promise<LatencySummary> {
  const socket = new WebSocket(`${ep.secure ? "wss" : "ws"}://127.0.0.1:${ep.port}/ws`, {
    headers: ep.headers,
    perMessageDeflate: false,
    ...(ep.secure ? { ca: ep.ca, servername: ep.servername } : {}),
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) =>
      reject(new Error(`${ep.name}: WebSocket answered HTTP ${res.statusCode}`)),
    );
  });
  const h = histogram();
  const message = Buffer.alloc(32, 0x63);
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      socket.once("message", () => resolve());
      socket.send(message);
    });
  try {
    for (let i = 0; i < warmup; i++) await roundTrip();
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      await roundTrip();
      h.recordValue(Math.max(1, Number(process.hrtime.bigint() - started) / 1000));
    }
  } finally {
    socket.terminate();
  }
  return summarize(h);
}

/** A new connection (TCP, and TLS where the mode has it) plus one small request, `count` times; milliseconds. */
export async function measureConnect(ep: ModeEndpoint, count: number): Promise<LatencySummary> {
  const h = histogram();
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const r = await exchange(ep, false, "GET", "/small", undefined, { connection: "close" });
    h.recordValue(Math.max(1, Number(process.hrtime.bigint() - started) / 1000));
    expectOk(r, "GET /small on a new connection", ep);
  }
  const us = summarize(h);
  return { p50: us.p50 / 1000, p95: us.p95 / 1000, p99: us.p99 / 1000, max: us.max / 1000, count: us.count };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
