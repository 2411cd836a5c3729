import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FEATURE_STATUSES, type Report } from "../../src/report/model.ts";
import { sharedPath } from "../support/shared-dir.ts";

// Every registry devfile, adapted for GitLab, through both paths on the sim tier (no Docker): what a
// user running real devfiles sees. Three shards run side by side (much of a cell is waiting) and are
// merged, to stay within 10 minutes on an otherwise idle 2-core machine.
const REGISTRY = sharedPath("devfiles/registry");
const SHARDS = 3;
const running = new Set<ChildProcess>();

function wsparity(args: string[], log: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/wsparity.js", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    child.stdout.on("data", (d: Buffer) => log.push(d.toString()));
    child.stderr.on("data", (d: Buffer) => log.push(d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      running.delete(child);
      resolve(code ?? 1);
    });
  });
}

// A run that outlives the test is interrupted as Ctrl-C does (it cleans up and writes what it has).
afterAll(async () => {
  for (const child of running) child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, running.size > 0 ? 20_000 : 0));
  for (const child of running) child.kill("SIGKILL");
});

/** The per-path status counts as the Markdown table README shows. */
function corpusTable(report: Report): string {
  const head = `| path | ${FEATURE_STATUSES.join(" | ")} |`;
  const rule = `| --- | ${FEATURE_STATUSES.map(() => "---:").join(" | ")} |`;
  const rows = (["kubernetes", "ci"] as const).map(
    (path) => `| ${path} | ${FEATURE_STATUSES.map((s) => report.summary.byPath[path][s]).join(" | ")} |`,
  );
  return [head, rule, ...rows].join("\n");
}

describe.skipIf(!REGISTRY)("the registry corpus (needs ../shared/devfiles/registry)", () => {
  it("runs every registry devfile adapted for GitLab through both paths; every reference verdict short of supported says why", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wsparity-corpus-"));
    const devfiles = (await readdir(REGISTRY!)).filter((f) => f.endsWith(".yaml")).sort();
    const scenarios: string[] = [];
    for (const file of devfiles) {
      const name = basename(file, ".yaml")
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 40)
        .replace(/-+$/, "");
      const scenario = join(dir, `${name}.yaml`);
      await writeFile(
        scenario,
        [
          `name: ${name}`,
          `devfile: ${join(REGISTRY!, file)}`,
          "adapt: gitlab",
          "matrix: { executors: [shell] }",
          "bench: { latencyRequests: 0, bulkMiB: 0 }",
          "timeouts: { probeMs: 20000 }",
          "",
        ].join("\n"),
      );
      scenarios.push(scenario);
    }
    const log: string[] = [];
    // java-wildfly reads {{imageName}}, which it leaves to the tool that builds its image.
    const common = ["--tier", "sim", "--progress", "quiet", "--var", "imageName=wildfly-app"];
    const codes = await Promise.all(
      Array.from({ length: SHARDS }, (_, i) =>
        wsparity(
          [
            "run",
            ...scenarios,
            ...common,
            "--shard",
            `${i + 1}/${SHARDS}`,
            "--out",
            join(dir, `part-${i + 1}`),
          ],
          log,
        ),
      ),
    );
    // A run exits 1 when a check fails; 2 would be bad usage, and anything else a crash.
    expect(
      codes.every((c) => c === 0 || c === 1),
      log.join("").slice(-3000),
    ).toBe(true);
    const parts = Array.from({ length: SHARDS }, (_, i) => join(dir, `part-${i + 1}`));
    expect(
      await wsparity(["merge", ...parts, "--out", join(dir, "merged")], log),
      log.join("").slice(-2000),
    ).toBe(0);
    const report = JSON.parse(await readFile(join(dir, "merged", "report.json"), "utf8")) as Report;

    expect(report.scenarios).toHaveLength(devfiles.length);
    for (const s of report.scenarios) {
      expect(s.gitlabRejects, s.name).toEqual([]);
      expect(s.adaptations.length, s.name).toBeGreaterThan(0);
    }
    const references = report.cells.filter((c) => c.path === "kubernetes");
    expect(references).toHaveLength(devfiles.length);
    for (const cell of references) {
      expect(cell.startupMs, `${cell.scenario}: ${cell.reason}`).not.toBeNull();
      for (const f of cell.features) {
        if (f.status === "inconclusive")
          expect(f.reason, `${cell.scenario} ${f.id}`).toMatch(/\w{3,}.*\w{3,}/);
        // "Names what failed": the evidence names the port, file, command or process it looked at.
        if (f.status === "unsupported" || f.status === "error")
          expect(f.evidence, `${cell.scenario} ${f.id}`).toMatch(/\d|`|'|"|\//);
      }
    }
    const counted = (path: "kubernetes" | "ci") =>
      FEATURE_STATUSES.reduce((n, s) => n + report.summary.byPath[path][s], 0);
    expect(counted("kubernetes")).toBe(references.reduce((n, c) => n + c.features.length, 0));
    expect(counted("ci")).toBe(report.summary.features - counted("kubernetes"));
    expect(report.summary.comparable).toBeGreaterThan(0);
    const summary = `${corpusTable(report)}\n\n${report.summary.comparable} comparable checks · ${report.summary.gaps} gaps · ${report.summary.inconclusive} inconclusive · parity ${report.summary.parityPct}%`;
    await writeFile(join(dir, "corpus-summary.md"), `${summary}\n`);
    console.log(
      `registry corpus (${devfiles.length} devfiles, ${report.cells.length} cells), ${dir}:\n${summary}`,
    );
  }, 900_000);
});
