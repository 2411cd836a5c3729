import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateGate, formatVerdict } from "../../src/report/gate.ts";
import { parseMetricKey, parsePolicy, parseThreshold } from "../../src/report/policy.ts";
import { UsageError } from "../../src/util/errors.ts";
import { sampleReport } from "./fixtures.ts";

const gate = (yaml: string) => evaluateGate(sampleReport(), parsePolicy(yaml, "policy.yaml"));
const onlyRule = (yaml: string) => gate(yaml).stages[0]!.rules[0]!;

describe("gate rules", () => {
  it("checks report-wide metrics (parityPct, gaps, gaps by severity)", () => {
    expect(onlyRule("stages: [{name: a, thresholds: {parityPct: ['>= 60']}}]")).toMatchObject({
      passed: true,
      detail: "actual 66.67",
    });
    expect(onlyRule("stages: [{name: a, thresholds: {parityPct: ['>= 90']}}]").passed).toBe(false);
    expect(onlyRule("stages: [{name: a, thresholds: {gaps: ['<= 2']}}]").passed).toBe(true);
    expect(onlyRule("stages: [{name: a, thresholds: {gaps.critical: ['== 0']}}]")).toMatchObject({
      passed: false,
      detail: "actual 1",
    });
    expect(onlyRule("stages: [{name: a, thresholds: {gaps.minor: ['== 1']}}]").passed).toBe(true);
  });

  it("narrows report-wide metrics to an executor with a k6-style selector", () => {
    expect(
      onlyRule("stages: [{name: a, thresholds: {'parityPct{executor:docker}': ['== 100']}}]").passed,
    ).toBe(true);
    expect(
      onlyRule("stages: [{name: a, thresholds: {'parityPct{executor:shell}': ['> 34']}}]"),
    ).toMatchObject({
      passed: false,
      detail: "actual 33.33",
    });
  });

  it("requires a per-cell metric to hold on every selected CI cell, naming the cells that miss", () => {
    const r = onlyRule("stages: [{name: a, thresholds: {tunnel.latencyUs.p95: ['< 350']}}]");
    expect(r.passed).toBe(false);
    expect(r.detail).toContain("demo ci shell/amd64 = 400");
    expect(
      onlyRule("stages: [{name: a, thresholds: {'tunnel.latencyUs.p95{executor:docker}': ['< 350']}}]")
        .passed,
    ).toBe(true);
    expect(
      onlyRule("stages: [{name: a, thresholds: {tunnel.ratio.throughputMBps.download: ['>= 0.5']}}]").passed,
    ).toBe(true);
    expect(onlyRule("stages: [{name: a, thresholds: {startupMs: ['< 2000']}}]").detail).toContain(
      "docker/amd64 = 4000",
    );
  });

  it("fails a cell metric that no cell reports, or an unknown metric, rather than passing it", () => {
    expect(
      onlyRule("stages: [{name: a, thresholds: {'tunnel.latencyUs.p95{path:kubernetes}': ['< 1']}}]"),
    ).toMatchObject({
      passed: false,
      detail: "demo kubernetes/amd64 has no tunnel.latencyUs.p95",
    });
    expect(
      onlyRule("stages: [{name: a, thresholds: {'startupMs{executor:kubernetes}': ['< 1']}}]"),
    ).toMatchObject({
      passed: false,
      detail: "no cell in the report matches",
    });
    expect(onlyRule("stages: [{name: a, thresholds: {latency: ['< 1']}}]").detail).toMatch(
      /unknown metric "latency"/,
    );
  });

  it("checks feature requirements on selected cells", () => {
    const yes = "stages: [{name: a, require: [{feature: endpoint.http, path: ci, status: supported}]}]";
    expect(onlyRule(yes)).toMatchObject({ passed: true, detail: "2 cells" });
    const no =
      "stages: [{name: a, require: [{feature: volume.persistent, executor: shell, status: supported}]}]";
    expect(onlyRule(no)).toMatchObject({ passed: false, detail: "demo ci shell/amd64: degraded" });
    const either =
      "stages: [{name: a, require: [{feature: volume.persistent, executor: shell, status: [supported, degraded]}]}]";
    expect(onlyRule(either).passed).toBe(true);
    const none = "stages: [{name: a, require: [{feature: endpoint.tcp, status: supported}]}]";
    expect(onlyRule(none)).toMatchObject({ passed: false, detail: "no matching cell probed this feature" });
  });

  it("reaches the highest stage whose rules and every earlier stage's pass, and gates on the named one", () => {
    const policy = `
gate: two
stages:
  - {name: one, thresholds: {parityPct: [">= 50"]}}
  - {name: two, thresholds: {parityPct: [">= 60"]}}
  - {name: three, thresholds: {parityPct: [">= 99"]}}
  - {name: four, thresholds: {parityPct: [">= 0"]}}
`;
    const verdict = gate(policy);
    expect(verdict).toMatchObject({ reached: "two", required: "two", passed: true });
    expect(formatVerdict(verdict)).toContain("report supports stage: two; gate requires: two → PASS");
    expect(gate(policy.replace("gate: two", "gate: four"))).toMatchObject({ reached: "two", passed: false });
    expect(gate("stages: [{name: x, thresholds: {parityPct: ['> 99']}}]")).toMatchObject({
      reached: null,
      passed: false,
    });
  });
});

describe("policy parsing", () => {
  it("names file, line and column of each bad field", () => {
    const bad = "stages:\n  - name: a\n    thresholds:\n      parityPct: ['about 90']\n";
    expect(() => parsePolicy(bad, "p.yaml")).toThrow(/p\.yaml:4:19: "about 90" must be a comparison/);
    expect(() => parsePolicy("stages:\n  - name: a\n    colour: red\n", "p.yaml")).toThrow(
      /p\.yaml:3:13: .*unknown key "colour"/,
    );
    expect(() => parsePolicy("stages: [{name: a}]\ngate: b\n", "p.yaml")).toThrow(
      /p\.yaml:2:7: gate "b" is not a stage/,
    );
    expect(() => parsePolicy("stages: [", "p.yaml")).toThrow(UsageError);
    expect(() => parsePolicy("stages: [{name: a, thresholds: {'x{colour:red}': ['<1']}}]", "p.yaml")).toThrow(
      /"colour"/,
    );
  });

  it("rejects arbitrary input only with a located UsageError (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parsePolicy(text, "fuzz.yaml");
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).toMatch(/fuzz\.yaml:\d+:\d+/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("ships a sample rollout policy that parses", async () => {
    const { loadPolicy } = await import("../../src/report/policy.ts");
    const policy = await loadPolicy("policies/rollout.yaml");
    expect(policy.stages.map((s) => s.name)).toEqual(["internal", "beta", "general-availability"]);
  });

  it("parses every well-formed threshold and only those (property)", () => {
    const op = fc.constantFrom("<", "<=", ">", ">=", "==", "!=");
    const num = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
    fc.assert(
      fc.property(op, num, fc.constantFrom("", " ", "  "), (o, n, ws) => {
        const t = parseThreshold(`${o}${ws}${n}`);
        expect(t).toBeDefined();
        expect(t!.op).toBe(o);
        expect(t!.value).toBeCloseTo(n);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const t = parseThreshold(s);
        if (t) expect(s).toMatch(/^\s*[<>=!]=?\s*-?\d/);
      }),
    );
  });

  it("parses metric keys with selectors and rejects malformed ones without throwing (property)", () => {
    expect(parseMetricKey("tunnel.latencyUs.p95{executor:docker, arch:arm64}")).toEqual({
      metric: "tunnel.latencyUs.p95",
      selector: { executor: "docker", arch: "arm64" },
    });
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const r = parseMetricKey(s);
        expect(typeof r === "string" || typeof r.metric === "string").toBe(true);
      }),
    );
  });
});
