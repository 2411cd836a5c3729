import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cell, report, sampleReport } from "./fixtures.ts";

let dir: string;
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/wsparity.js", ...args], { encoding: "utf8", timeout: 30_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsparity-cli-"));
  await writeFile(join(dir, "sample.json"), JSON.stringify(sampleReport()));
  const worse = report([
    sampleReport().cells[0]!,
    cell("ci", "shell", "amd64", { "endpoint.http": "unsupported" }),
  ]);
  await writeFile(join(dir, "worse.json"), JSON.stringify(worse));
  await writeFile(join(dir, "not-a-report.json"), JSON.stringify({ hello: 1 }));
  await writeFile(
    join(dir, "policy.yaml"),
    "gate: b\nstages:\n  - {name: a, thresholds: {parityPct: ['>= 60']}}\n  - {name: b, thresholds: {gaps.critical: ['== 0']}}\n",
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("wsparity gate", () => {
  it("exits 0 when the gate stage is reached and 1 naming the failed rule when not", () => {
    const pass = cli("gate", join(dir, "sample.json"), "--policy", join(dir, "policy.yaml"), "--stage", "a");
    expect(pass.status).toBe(0);
    expect(pass.stdout).toContain("gate requires: a → PASS");
    const fail = cli("gate", join(dir, "sample.json"), "--policy", join(dir, "policy.yaml"));
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain("✗ gaps.critical == 0 — actual 1");
    expect(fail.stdout).toContain("report supports stage: a; gate requires: b → FAIL");
  });

  it("exits 2 on an unreadable report, a non-report, or a missing --policy", () => {
    expect(cli("gate", join(dir, "nope.json"), "--policy", join(dir, "policy.yaml")).status).toBe(2);
    const notReport = cli("gate", join(dir, "not-a-report.json"), "--policy", join(dir, "policy.yaml"));
    expect(notReport.status).toBe(2);
    expect(notReport.stderr).toContain("is not a wsparity report");
    expect(cli("gate", join(dir, "sample.json")).status).toBe(2);
  });

  it("passes the shipped rollout policy's internal stage on a report that earns it", () => {
    const r = cli("gate", join(dir, "sample.json"), "--policy", "policies/rollout.yaml", "--json");
    const verdict = JSON.parse(r.stdout);
    expect(verdict.stages[0].name).toBe("internal");
    expect(
      verdict.stages[0].rules.find((x: { rule: string }) => x.rule.startsWith("editor.injected")).passed,
    ).toBe(false);
    expect(r.status).toBe(1);
  });
});

describe("wsparity compare", () => {
  it("exits 0 for the same report and 1 when the new one is worse", () => {
    expect(cli("compare", join(dir, "sample.json"), join(dir, "sample.json")).status).toBe(0);
    const worse = cli("compare", join(dir, "sample.json"), join(dir, "worse.json"));
    expect(worse.status).toBe(1);
    expect(worse.stdout).toContain("demo endpoint.http on shell/amd64: unsupported");
  });
});
