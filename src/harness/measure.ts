import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import * as hdr from "hdr-histogram-js";
import type { LatencyFigures, ThroughputFigures, TunnelFigures } from "../report/model.ts";

export interface Target {
  /** Base URL of the editor, e.g. http://60001-ws.example.test:8080 or a path-form URL ending in /. */
  url(path: string): string;
  headers: Record<string, string>;
  /** How the URL's name resolves when no DNS server knows it. */
  lookup?: LookupFunction;
}

export interface MeasureOptions {
  latencyRequests: number;
  bulkMiB: number;
  warmup?: number;
}

function request(
  agent: http.Agent,
  target: Target,
  method: string,
  path: string,
  body?: Buffer,
): Promise<number> {
  const url = new URL(target.url(path));
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method,
        agent,
        headers: { ...target.headers, ...(body ? { "content-length": body.length } : {}) },
        ...(target.lookup ? { lookup: target.lookup } : {}),
      },
      (res) => {
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          bytes += c.length;
        });
        res.on("end", () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${method} ${url} → ${res.statusCode}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function latency(
  agent: http.Agent,
  target: Target,
  count: number,
  warmup: number,
): Promise<LatencyFigures> {
  for (let i = 0; i < warmup; i++) await request(agent, target, "GET", "/healthz");
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await request(agent, target, "GET", "/healthz");
    histogram.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
  }
  const figures = {
    p50: histogram.getValueAtPercentile(50),
    p95: histogram.getValueAtPercentile(95),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.maxValue,
    count: histogram.totalCount,
  };
  histogram.destroy();
  return figures;
}

async function throughput(agent: http.Agent, target: Target, mib: number): Promise<ThroughputFigures> {
  const bytes = mib * 1024 * 1024;
  if (bytes === 0) return { download: 0, upload: 0 };
  let t0 = performance.now();
  const got = await request(agent, target, "GET", `/api/blob?bytes=${bytes}`);
  const download = got / 1e6 / ((performance.now() - t0) / 1000);
  const payload = Buffer.alloc(bytes, 0x62);
  t0 = performance.now();
  await request(agent, target, "POST", "/api/sink", payload);
  const upload = bytes / 1e6 / ((performance.now() - t0) / 1000);
  return { download, upload };
}

/** Small-request latency (HDR histogram, keep-alive) and bulk throughput both ways against the editor. */
export async function measureTarget(target: Target, options: MeasureOptions): Promise<TunnelFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const chosen = target.url("/").startsWith("https:") ? tlsAgent : agent;
  try {
    const latencyUs = await latency(
      chosen,
      target,
      options.latencyRequests,
      options.warmup ?? Math.min(200, options.latencyRequests),
    );
    const throughputMBps = await throughput(chosen, target, options.bulkMiB);
    return { latencyUs, throughputMBps };
  } finally {
    agent.destroy();
    tlsAgent.destroy();
  }
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);

/** Per-field ratios of measured over baseline: > 1 is slower for latency, faster for throughput. */
export function ratios(measured: TunnelFigures, baseline: TunnelFigures): TunnelFigures {
  const l = measured.latencyUs;
  const b = baseline.latencyUs;
  return {
    latencyUs: {
      p50: ratio(l.p50, b.p50),
      p95: ratio(l.p95, b.p95),
      p99: ratio(l.p99, b.p99),
      max: ratio(l.max, b.max),
      count: l.count,
    },
    throughputMBps: {
      download: ratio(measured.throughputMBps.download, baseline.throughputMBps.download),
      upload: ratio(measured.throughputMBps.upload, baseline.throughputMBps.upload),
    },
  };
}
