import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/build.ts";
import { compareReports } from "../../src/report/compare.ts";
import { evaluateGate } from "../../src/report/gate.ts";
import { renderHtml } from "../../src/report/html.ts";
import { renderJunit } from "../../src/report/junit.ts";
import { renderMarkdown } from "../../src/report/markdown.ts";
import type { Cell, ScenarioSummary } from "../../src/report/model.ts";
import { parsePolicy } from "../../src/report/policy.ts";
import { readReport } from "../../src/report/read.ts";
import { reportSchemaErrors } from "../../src/report/validate.ts";
import { cell, report } from "./fixtures.ts";

const rejected = (name: string): ScenarioSummary => ({
  name,
  devfile: `${name}.yaml`,
  gitlabRejects: ['Invalid schemaVersion "2.2.2"'],
  adaptations: [],
  findings: [],
});

function withOutcome(c: Cell, feature: string, outcome: string): Cell {
  return { ...c, features: c.features.map((f) => (f.id === feature ? { ...f, outcome } : f)) };
}

describe("inconclusive verdicts", () => {
  it("are never a gap and stay out of parity, and are counted per path", () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "container.multi": "inconclusive", "endpoint.http": "supported" }),
      cell("ci", "shell", "amd64", { "container.multi": "unsupported", "endpoint.http": "supported" }),
    ]);
    expect(r.gaps).toEqual([]);
    expect(r.summary).toMatchObject({ comparable: 1, inconclusive: 1, compared: 1, parityPct: 100 });
    expect(r.summary.byPath.kubernetes).toMatchObject({ inconclusive: 1, supported: 1 });
    expect(r.summary.byPath.ci).toMatchObject({ unsupported: 1, supported: 1 });
    expect(r.summary.notComparable).toEqual(["1 check: a path could not check the feature (inconclusive)"]);
    expect(reportSchemaErrors(r)).toEqual([]);
  });

  it("must say why: the schema refuses an inconclusive result without a reason", () => {
    const r = report([cell("kubernetes", null, "amd64", { "container.multi": "inconclusive" })]);
    delete r.cells[0]!.features[0]!.reason;
    expect(reportSchemaErrors(r).join("\n")).toMatch(/features\/0 must have required property 'reason'/);
  });

  it("reads as skipped in junit with its reason, and shows the reason in md and html", () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "container.multi": "inconclusive" }),
      cell("ci", "shell", "amd64", { "container.multi": "supported" }),
    ]);
    expect(renderJunit(r)).toContain(
      '<skipped message="inconclusive: container.multi could not be checked here"/>',
    );
    expect(renderMarkdown(r)).toContain(
      "| demo kubernetes/amd64 | container.multi | container.multi could not be checked here |",
    );
    expect(renderHtml(r)).toContain('class="status inconclusive"');
  });
});

describe("payload outcomes", () => {
  it("the same failure on both paths is parity; a different outcome is a gap with both outcomes", () => {
    const k8s = withOutcome(
      cell("kubernetes", null, "amd64", { "command.exec": "supported" }),
      "command.exec",
      "exit 1: Cannot find module '/server.js'",
    );
    const same = withOutcome(
      cell("ci", "shell", "amd64", { "command.exec": "supported" }),
      "command.exec",
      "exit 1: Cannot find module '/server.js'",
    );
    const other = withOutcome(
      cell("ci", "docker", "amd64", { "command.exec": "supported" }),
      "command.exec",
      "exit 0: listening",
    );
    const otherToo = { ...other, executor: "kubernetes" as const };
    const r = report([k8s, same, other, otherToo]);
    expect(r.summary).toMatchObject({ comparable: 3, compared: 3, parityPct: 33.33, gaps: 1 });
    expect(r.gaps[0]).toMatchObject({
      feature: "command.exec",
      observed: { "docker/amd64": "supported", "kubernetes/amd64": "supported" },
      severity: "major",
      detail: "kubernetes: exit 1: Cannot find module '/server.js'; ci: exit 0: listening",
    });
    expect(renderJunit(r)).toContain("kubernetes: exit 1: Cannot find module");
  });
});

describe("a run that compared nothing", () => {
  it("says so and why, never that every CI cell matches", () => {
    const cells = ["a", "b", "c"].flatMap((name) => [
      cell("kubernetes", null, "amd64", { "command.exec": "error" }, { scenario: name, status: "error" }),
      cell("ci", "shell", "amd64", { "command.exec": "supported" }, { scenario: name }),
    ]);
    const r = buildReport({
      runId: "r",
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      tier: "sim",
      environment: {},
      cells,
      scenarios: ["a", "b", "c"].map(rejected),
    });
    expect(r.summary.comparable).toBe(0);
    expect(r.summary.notComparable[0]).toBe(
      "GitLab rejects 3 of 3 devfiles (a, b, c): run with --adapt gitlab to compare them",
    );
    const md = renderMarkdown(r);
    expect(md).toContain("**0 comparable checks: GitLab rejects 3 of 3 devfiles");
    expect(md).toContain("No gaps found, because nothing was compared");
    expect(md).not.toMatch(/every CI cell matches/);
    expect(renderHtml(r)).not.toMatch(/every CI cell matches/);
    expect(reportSchemaErrors(r)).toEqual([]);
  });
});

describe("gate and compare", () => {
  it("the gate reads comparable and inconclusive, and accepts inconclusive as a required status", () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "container.multi": "inconclusive", "endpoint.http": "supported" }),
      cell("ci", "docker", "amd64", { "container.multi": "supported", "endpoint.http": "supported" }),
    ]);
    const policy = parsePolicy(
      [
        "gate: s1",
        "stages:",
        "  - name: s1",
        "    thresholds:",
        '      comparable: [">= 1"]',
        '      inconclusive{executor:docker}: ["<= 1"]',
        "    require:",
        "      - { feature: container.multi, path: kubernetes, status: [supported, inconclusive] }",
      ].join("\n"),
      "p.yaml",
    );
    const verdict = evaluateGate(r, policy);
    expect(verdict.stages[0]!.rules.map((x) => [x.passed, x.detail])).toEqual([
      [true, "actual 1"],
      [true, "actual 1"],
      [true, "1 cells"],
    ]);
  });

  it("a gap that turns inconclusive is listed as no longer checked, not closed", () => {
    const before = report([
      cell("kubernetes", null, "amd64", { "container.multi": "supported" }),
      cell("ci", "docker", "amd64", { "container.multi": "unsupported" }),
    ]);
    const after = report([
      cell("kubernetes", null, "amd64", { "container.multi": "inconclusive" }),
      cell("ci", "docker", "amd64", { "container.multi": "unsupported" }),
    ]);
    const c = compareReports(before, after);
    expect(c.closedGaps).toEqual([]);
    expect(c.uncheckedGaps).toHaveLength(1);
    expect(c.comparable).toEqual({ old: 1, new: 0 });
  });

  it("reads a 1.0.0 report and derives the 1.1 counts from its cells", async () => {
    const r = report([
      cell("kubernetes", null, "amd64", { "endpoint.http": "supported" }),
      cell("ci", "docker", "amd64", { "endpoint.http": "supported" }),
    ]);
    const old = {
      ...r,
      schemaVersion: "1.0.0",
      summary: { cells: 2, features: 2, gaps: 0, compared: 1, parityPct: 100 },
    } as Record<string, unknown>;
    delete old.scenarios;
    const file = join(await mkdtemp(join(tmpdir(), "wsparity-")), "old.json");
    await writeFile(file, JSON.stringify(old));
    const read = await readReport(file);
    expect(read.summary).toMatchObject({ comparable: 1, inconclusive: 0, parityPct: 100 });
    expect(read.scenarios).toEqual([]);
  });
});
