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
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const frameName = (frame: CpuProfile["nodes"][number]["callFrame"]) => {
  const where = frame.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : "";
  return `${frame.functionName || "(anonymous)"}${where}`;
};

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
  }
  return `${lines.join("\n")}\n`;
}
