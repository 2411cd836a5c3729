import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";

/** Where one process spent its time, from a V8 `.cpuprofile` (node --cpu-prof). */
export interface ProfileSummary {
  file: string;
  seconds: number;
  /** Share of the run the event loop waited with nothing to do (V8's "(idle)" samples). */
  idlePercent: number;
  /** Share spent in garbage collection. */
  gcPercent: number;
  /** Functions with the most self time, as a share of the run. */
  top: { fn: string; percent: number }[];
  /** Self time by what the code is (TLS, HTTP/2, HTTP/1, streams, …), as a share of the busy (not idle) time. */
  categories: { category: string; percent: number }[];
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const frameName = (frame: CpuProfile["nodes"][number]["callFrame"]) => {
  const where = frame.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : "";
  return `${frame.functionName || "(anonymous)"}${where}`;
};

/** What a module is, by its URL; undefined for a frame without one (a native function). */
function moduleCategory(url: string): string | undefined {
  if (!url) return undefined;
  if (url.includes("internal/http2")) return "HTTP/2 (node:internal/http2)";
  if (url.includes("_tls_") || url === "node:tls" || url.includes("internal/tls"))
    return "TLS (node:_tls_wrap)";
  if (url.includes("node:_http_") || url === "node:http" || url === "node:https")
    return "HTTP/1 parser and messages (node:_http_*)";
  if (url.includes("internal/streams") || url === "node:stream") return "streams (node:internal/streams)";
  if (url === "node:net" || url.includes("stream_base_commons")) return "sockets (node:net, stream_base)";
  if (url === "node:events" || url.includes("task_queues") || url.includes("timers"))
    return "events, ticks and timers";
  if (url.includes("/ws/")) return "WebSocket (ws)";
  if (url.includes("/src/") || url.includes("wsparity")) return "wsparity's own code";
  return "other JavaScript (module loading, …)";
}

const SPECIAL: Record<string, string> = {
  "(garbage collector)": "garbage collection",
  "(program)": "native with no JavaScript caller (TLS, nghttp2, libuv)",
};

/**
 * Self time by category, as a share of the busy time. A native function called from JavaScript (a socket's
 * writeBuffer) counts as "<name> (native, from <category of its caller>)": on a machine short of cores its
 * samples include the time the process waited to run again after the call, since V8 samples wall time.
 */
function categorize(profile: CpuProfile): { category: string; percent: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const categoryOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = categoryOf.get(id);
    if (known) return known;
    const frame = byId.get(id)!.callFrame;
    let category = SPECIAL[frame.functionName] ?? moduleCategory(frame.url);
    if (!category) {
      let caller = parentOf.get(id);
      while (caller !== undefined && !moduleCategory(byId.get(caller)!.callFrame.url))
        caller = parentOf.get(caller);
      const from = caller === undefined ? "no JavaScript" : moduleCategory(byId.get(caller)!.callFrame.url)!;
      category = `${frame.functionName || "(anonymous)"} (native, from ${from.replace(/ \(.*/, "")})`;
    }
    categoryOf.set(id, category);
    return category;
  };
  const time = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)?.callFrame.functionName === "(idle)") return;
    const dt = profile.timeDeltas[i] ?? 0;
    busy += dt;
    const category = resolve(id);
    time.set(category, (time.get(category) ?? 0) + dt);
  });
  return [...time.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([category, us]) => ({ category, percent: Math.round((us / Math.max(1, busy)) * 1000) / 10 }))
    .filter((c) => c.percent >= 0.5);
}

export function summarizeProfile(file: string, profile: CpuProfile, topN = 12): ProfileSummary {
  const nameOf = new Map(profile.nodes.map((n) => [n.id, frameName(n.callFrame)]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const name = nameOf.get(id) ?? "(unknown)";
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  const pct = (us: number) => Math.round((us / Math.max(1, total)) * 1000) / 10;
  const top = [...self.entries()]
    .filter(([name]) => name !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([fn, us]) => ({ fn, percent: pct(us) }));
  return {
    file,
    seconds: Math.round(total / 1e5) / 10,
    idlePercent: pct(self.get("(idle)") ?? 0),
    gcPercent: pct(self.get("(garbage collector)") ?? 0),
    top,
    categories: categorize(profile),
  };
}

/** Summaries of every `.cpuprofile` in `dir`, by file name. */
export async function summarizeProfiles(dir: string): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile")).sort();
  return Promise.all(
    files.map(async (f) =>
      summarizeProfile(join(dir, f), JSON.parse(await readFile(join(dir, f), "utf8")) as CpuProfile),
    ),
  );
}

export function formatProfiles(summaries: ProfileSummary[]): string {
  const lines: string[] = [];
  for (const s of summaries) {
    lines.push(
      `${basename(s.file)}: ${s.seconds} s sampled, event loop idle ${s.idlePercent}%, GC ${s.gcPercent}%; most self time:`,
    );
    for (const t of s.top) lines.push(`  ${String(t.percent).padStart(5)}%  ${t.fn}`);
    lines.push("  busy time by category:");
    for (const c of s.categories) lines.push(`  ${String(c.percent).padStart(5)}%  ${c.category}`);
  }
  return `${lines.join("\n")}\n`;
}
