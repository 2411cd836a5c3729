// The harness under faults, through the CLI as a user runs it: Ctrl-C (SIGINT) at each step of
// `wsparity run`, and a workspace whose container exits at once. In every case a report of what finished
// is written, cells that could not finish are `error` (or `skipped` when never started) with the reason,
// and nothing the run started is left running: neither its process group nor any process whose command
// line names the run's folder (runners, kubelet containers, workspaces). Rows go into the reliability table.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reportSchemaErrors } from "../../src/report/validate.ts";
import { recordRow } from "../reliability/table.ts";

const root = mkdtempSync(join(tmpdir(), "wsparity-faults-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(needle) && Number(pid) !== process.pid)
        found.push(`${pid}: ${cmdline.slice(0, 100)}`);
    } catch {}
  }
  return found;
}

/** The processes still in a process group (field 5 of /proc/PID/stat), as "pid: command". */
function groupMembers(pgid: number): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z")
        found.push(
          `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 100)}`,
        );
    } catch {}
  }
  return found;
}

function scenario(name: string, devfile: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(join(root, `${name}.devfile.yaml`), devfile);
  const file = join(root, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ndescription: fault test\ndevfile: ${name}.devfile.yaml\nprobes: [container.env, editor.injected, workspace.stop]\nbench: { latencyRequests: 20, bulkMiB: 1 }\ntimeouts: { startMs: 30000, probeMs: 8000 }\n`,
  );
  return file;
}

const HEALTHY = `schemaVersion: 2.2.0
metadata: { name: healthy }
components:
  - name: tooling
    attributes: { gl/inject-editor: true }
    container:
      image: alpine:3.20
      env: [{ name: GREETING, value: hi }]
`;
const EXITS_AT_ONCE = `schemaVersion: 2.2.0
metadata: { name: exits }
components:
  - name: tooling
    attributes: { gl/inject-editor: true, overrideCommand: false }
    container:
      image: alpine:3.20
      command: [sh, -c, "echo giving up; exit 3"]
`;

interface Outcome {
  code: number | null;
  report: { cells: { status: string; reason?: string; path: string; executor: string }[] } | undefined;
  leftovers: string[];
  group: string[];
  stderr: string;
}

/** Runs `wsparity run` in its own process group; `interruptWhen` picks the progress line to Ctrl-C at. */
async function run(name: string, file: string, interruptWhen?: (line: string) => boolean): Promise<Outcome> {
  const out = join(root, `${name}-out`);
  const child = spawn(
    process.execPath,
    ["bin/wsparity.js", "run", file, "--tier", "sim", "--out", out, "--progress", "jsonl"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const pgid = child.pid!;
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let buffered = "";
  let interrupted = false;
  child.stdout.on("data", (c: Buffer) => {
    buffered += c.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines)
      if (!interrupted && interruptWhen?.(line)) {
        interrupted = true;
        child.kill("SIGINT");
      }
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  // Give anything the run left to its own devices a moment to show itself before looking.
  await new Promise((r) => setTimeout(r, 1500));
  let report: Outcome["report"];
  try {
    report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(reportSchemaErrors(report)).toEqual([]);
  } catch {
    report = undefined;
  }
  const outcome = { code, report, leftovers: processesMentioning(out), group: groupMembers(pgid), stderr };
  if (outcome.group.length) process.kill(-pgid, "SIGKILL");
  return outcome;
}

const interruptSteps: [string, (line: string) => boolean][] = [
  ["while the tier starts", (l) => l.includes('"event":"note"')],
  [
    "while the first workspace starts",
    (l) => l.includes('"event":"cell-started"') && l.includes('"index":0'),
  ],
  ["mid-probe on the Kubernetes path", (l) => l.includes('"event":"probe"')],
  ["while the CI job starts", (l) => l.includes('"event":"cell-started"') && l.includes('"index":1')],
];

describe("wsparity run under faults (sim tier, through the CLI)", () => {
  it.each(interruptSteps)(
    "Ctrl-C %s: report written, unfinished cells error/skipped with a reason, nothing left",
    async (step, when) => {
      const file = scenario(`sigint-${interruptSteps.findIndex(([s]) => s === step)}`, HEALTHY);
      const o = await run(`sigint-${step.replace(/\W+/g, "-")}`, file, when);
      const statuses = o.report?.cells.map((c) => c.status) ?? [];
      const unexplained = (o.report?.cells ?? []).filter((c) => c.status !== "passed" && !c.reason);
      const failedByInterrupt = (o.report?.cells ?? []).filter((c) => c.status === "failed");
      const ok =
        o.code === 130 &&
        o.report !== undefined &&
        unexplained.length === 0 &&
        failedByInterrupt.length === 0 &&
        o.leftovers.length === 0 &&
        o.group.length === 0;
      recordRow({
        check: `harness: Ctrl-C ${step}`,
        did: "SIGINT to `wsparity run --tier sim` (3 cells) at that step",
        figure: `exit ${o.code}, cells ${statuses.join("/") || "none"}, ${o.leftovers.length + o.group.length} processes left`,
        ok,
      });
      expect(o.code, o.stderr.slice(-2000)).toBe(130);
      expect(o.report).toBeDefined();
      expect(unexplained).toEqual([]);
      expect(failedByInterrupt).toEqual([]);
      expect(o.leftovers).toEqual([]);
      expect(o.group).toEqual([]);
    },
    300_000,
  );

  it("a workspace whose container exits at once: its cells are error with the reason, nothing left", async () => {
    const o = await run("exits-at-once", scenario("exits-at-once", EXITS_AT_ONCE));
    const cells = o.report?.cells ?? [];
    const k8s = cells.find((c) => c.path === "kubernetes");
    recordRow({
      check: "harness: workspace exits at once",
      did: "a devfile whose only container runs `exit 3` (overrideCommand: false), both paths",
      figure: `cells ${cells.map((c) => `${c.path}/${c.executor} ${c.status}`).join(", ")}; ${o.leftovers.length} processes left`,
      ok: k8s?.status === "error" && Boolean(k8s.reason) && o.leftovers.length === 0 && o.group.length === 0,
    });
    expect(o.report).toBeDefined();
    expect(k8s?.status).toBe("error");
    // The pod's own account of why, not only that the workspace never ran.
    expect(k8s?.reason).toMatch(/did not start.*(CrashLoopBackOff|exited with code 3)/);
    expect(o.leftovers).toEqual([]);
    expect(o.group).toEqual([]);
  }, 300_000);
});
