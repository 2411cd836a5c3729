// The harness under faults, through the CLI as a user runs it: Ctrl-C (SIGINT) at each step of
// `wsparity run`, and a workspace whose container exits at once. In every case a report of what finished
// is written, cells that could not finish are `error` (or `skipped` when never started) with the reason,
// and nothing the run started is left running: neither its process group nor any process whose command
// line names the run's folder (runners, kubelet containers, workspaces). Rows go into the reliability table.

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
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

/** The processes below `ancestor` (by parent pid, field 4 of /proc/PID/stat) whose command line matches. */
function descendantsMatching(ancestor: number, pattern: RegExp): number[] {
  const parent = new Map<number, number>();
  const cmdlines = new Map<number, string>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      cmdlines.set(Number(pid), readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
    } catch {}
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p))
      if (p === ancestor) return true;
    return false;
  };
  return [...cmdlines].filter(([pid, cmd]) => pattern.test(cmd) && below(pid)).map(([pid]) => pid);
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

/** A fault to inject when a progress line matches: Ctrl-C the run, or do something to what it started. */
type Fault = (line: string, run: { pid: number; out: string; interrupt(): void }) => boolean;

/** Runs `wsparity run` in its own process group; `fault` is shown each progress line until it acts. */
async function run(
  name: string,
  file: string,
  fault?: Fault,
  extraArgs: string[] = ["--tier", "sim"],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Outcome> {
  const out = join(root, `${name}-out`);
  const child = spawn(
    process.execPath,
    ["bin/wsparity.js", "run", file, ...extraArgs, "--out", out, "--progress", "jsonl"],
    { stdio: ["ignore", "pipe", "pipe"], detached: true, env },
  );
  const pgid = child.pid!;
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let buffered = "";
  let acted = false;
  const handle = { pid: child.pid!, out, interrupt: () => child.kill("SIGINT") };
  child.stdout.on("data", (c: Buffer) => {
    buffered += c.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) if (!acted && fault?.(line, handle)) acted = true;
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
      const o = await run(`sigint-${step.replace(/\W+/g, "-")}`, file, (line, r) => {
        if (!when(line)) return false;
        r.interrupt();
        return true;
      });
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
    // GitLab's account of why, which is all a GitLab user (and so the harness) sees: the workspace's actualState
    // stays Starting while its container crash-loops, until the Deployment's progress deadline makes it Failed.
    expect(k8s?.reason).toMatch(
      /did not start.*did not become Running within \d+ ms: GitLab says (Starting|Failed)/,
    );
    expect(o.leftovers).toEqual([]);
    expect(o.group).toEqual([]);
  }, 300_000);

  it("a runner's job killed mid-probe: its cell is error naming the job's end, the report is written, nothing left", async () => {
    const file = scenario("job-killed", HEALTHY);
    let killed: number[] = [];
    const o = await run(
      "job-killed",
      file,
      (line, r) => {
        // Once the CI cell is probing, the job runs: SIGKILL the shell executor's job script (by pid, found
        // below the run's own process), as an out-of-memory kill or a crashed runner host would.
        if (!(line.includes('"event":"probe"') && line.includes(" ci "))) return false;
        killed = descendantsMatching(r.pid, /\/runner-shell-amd64\/builds\/.*\.script-/);
        for (const pid of killed) process.kill(pid, "SIGKILL");
        return true;
      },
      ["--tier", "sim", "--paths", "ci", "--executors", "shell"],
    );
    const cell = o.report?.cells.find((c) => c.path === "ci");
    recordRow({
      check: "harness: runner's job killed mid-job",
      did: "SIGKILL to the shell executor's job script (by pid) while `wsparity run --tier sim` probes the CI cell",
      figure: `exit ${o.code}, cell ${cell?.status ?? "missing"} (${(cell?.reason ?? "").slice(0, 60)}), ${o.leftovers.length + o.group.length} processes left`,
      ok:
        killed.length > 0 &&
        cell?.status === "error" &&
        /job \d+ ended/.test(cell.reason ?? "") &&
        o.leftovers.length === 0 &&
        o.group.length === 0,
    });
    expect(killed.length, "the job's script was found and killed").toBeGreaterThan(0);
    expect(o.code, o.stderr.slice(-2000)).toBe(0);
    expect(cell?.status).toBe("error");
    expect(cell?.reason).toMatch(
      /job \d+ ended failed \(script_failure\) while the cell ran; nobody stopped it/,
    );
    expect(o.leftovers).toEqual([]);
    expect(o.group).toEqual([]);
  }, 300_000);

  it("a Docker engine that accepts connections and never answers: every docker-tier cell is error naming it, exit 1, within a deadline", async () => {
    // A socket of this test's own where DOCKER_HOST points: it accepts and then says nothing, as a wedged
    // dockerd does. The real engine is never touched.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket.on("error", () => {})));
    const socketPath = join(root, "silent-docker.sock");
    await new Promise<void>((r) => silent.listen(socketPath, r));
    const t0 = performance.now();
    let o: Outcome;
    try {
      o = await run("engine-silent", scenario("engine-silent", HEALTHY), undefined, ["--tier", "docker"], {
        ...process.env,
        DOCKER_HOST: `unix://${socketPath}`,
      });
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cells = o.report?.cells ?? [];
    const ran = cells.filter((c) => c.status !== "skipped");
    const unexplained = ran.filter(
      (c) => c.status !== "error" || !/did not answer GET \/_ping within 10 s/.test(c.reason ?? ""),
    );
    recordRow({
      check: "harness: Docker engine not answering",
      did: "`wsparity run --tier docker` with DOCKER_HOST at a socket that accepts and never answers",
      figure: `exit ${o.code} in ${seconds.toFixed(1)} s, ${ran.length} cells error (${cells.length - ran.length} skipped by the matrix), ${held.length} connections, ${o.leftovers.length + o.group.length} processes left`,
      ok:
        o.code === 1 &&
        seconds < 45 &&
        ran.length > 0 &&
        unexplained.length === 0 &&
        held.length > 0 &&
        o.leftovers.length === 0 &&
        o.group.length === 0,
    });
    expect(o.code, o.stderr.slice(-2000)).toBe(1);
    expect(o.stderr).toMatch(
      /no cell could run: the Docker engine at unix:\/\/.*silent-docker\.sock accepted the connection but did not answer/,
    );
    expect(seconds).toBeLessThan(45);
    expect(ran.length).toBeGreaterThan(0);
    expect(unexplained).toEqual([]);
    expect(held.length, "the run asked the silent engine").toBeGreaterThan(0);
    expect(o.leftovers).toEqual([]);
    expect(o.group).toEqual([]);
  }, 120_000);
});
