import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { validateCiConfig } from "../../src/ci/schema.ts";
import { main } from "../../src/cli.ts";
import { lintCiConfig, readCiConfig, seedPipeline } from "../../src/sim/gitlab/ci/index.ts";

// The project's own .gitlab-ci.yml: GitLab's CI schema (schemas/gitlab-ci.json), the shape the nightly
// needs, and every wsparity option its scripts use existing in the CLI.
const text = readFileSync(".gitlab-ci.yml", "utf8");
const config = parse(text) as Record<string, Record<string, unknown>>;

interface Job {
  rules?: { if?: string }[];
  extends?: string;
  parallel?: { matrix: Record<string, string | string[]>[] };
  tags?: string[];
  needs?: { job: string; artifacts?: boolean }[];
  script: (string | string[])[];
  artifacts?: {
    paths?: string[];
    expose_as?: string;
    reports?: { junit?: string };
    when?: string;
  };
}
const job = (name: string) => config[name] as unknown as Job;
const rulesOf = (j: Job) => (j.extends ? (config[j.extends] as unknown as Job).rules : j.rules) ?? [];

async function helpOf(command: string[]): Promise<string> {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await main([...command, "--help"]);
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}
afterEach(() => {
  process.exitCode = undefined;
});

describe(".gitlab-ci.yml", () => {
  it("passes GitLab's CI schema", () => {
    const result = validateCiConfig(config);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("runs lint, typecheck and npm test in merge request pipelines, not in the nightly", () => {
    for (const [name, command] of [
      ["lint", "npx biome check ."],
      ["typecheck", "npx tsc --noEmit"],
      ["test", "npm test"],
    ] as const) {
      expect(job(name).script).toContain(command);
      const ifs = rulesOf(job(name)).map((r) => r.if);
      expect(ifs).toContain('$CI_PIPELINE_SOURCE == "merge_request_event"');
      expect(ifs.join(" ")).not.toMatch(/== "schedule"/);
    }
  });

  it("runs the matrix on the schedule as parallel:matrix jobs over tier × executor × arch, tagged for their runners", () => {
    const part = job("nightly:part");
    expect(part.rules).toEqual([
      { if: '$CI_PIPELINE_SOURCE == "schedule" && $TIER == $WSPARITY_NIGHTLY_TIER' },
    ]);
    const axes = part.parallel!.matrix[0]!;
    expect(Object.keys(axes).sort()).toEqual(["ARCH", "EXECUTOR", "TIER"]);
    expect(axes.EXECUTOR).toEqual(["reference", "shell", "docker", "kubernetes"]);
    expect(axes.ARCH).toEqual(["amd64", "arm64"]);
    expect(part.tags).toEqual(expect.arrayContaining(["tier-$TIER", "arch-$ARCH"]));
    expect(part.artifacts?.paths).toEqual(["parts/"]);
    expect(part.artifacts?.when).toBe("always");
  });

  it("merges every part, compares with last night through the job artifacts API, gates, and publishes junit and the HTML report", () => {
    const report = job("nightly:report");
    expect(report.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]);
    expect(report.needs).toEqual([{ job: "nightly:part", artifacts: true, optional: true }]);
    const script = report.script.flat().join("\n");
    expect(script).toContain("wsparity.js merge parts/*/");
    expect(script).toMatch(
      /jobs\/artifacts\/\$CI_DEFAULT_BRANCH\/raw\/\$NIGHTLY_REPORT\/report\.json\?job=nightly:report/,
    );
    expect(script).toContain("wsparity.js compare");
    expect(script).toContain("--apply-flag");
    expect(report.artifacts?.reports?.junit).toBe("reports/nightly/junit.xml");
    expect(report.artifacts?.expose_as).toBeTruthy();
    expect(report.artifacts?.paths).toContain("reports/nightly/report.html");
  });

  it("uses only options the CLI has", async () => {
    // Continued lines (a trailing backslash) joined, as the shell reads them.
    const joined = text.replace(/\\\n\s*/g, " ");
    const calls = [...joined.matchAll(/bin\/wsparity\.js ((?:[a-z-]+ ?)+)([^\n]*)/g)];
    expect(calls.length).toBeGreaterThanOrEqual(5);
    for (const [, words, rest] of calls) {
      const command = words!
        .trim()
        .split(" ")
        .filter((w) => !w.startsWith("-"));
      // The subcommand words, up to the first argument (a path or variable).
      const sub = command.slice(0, command[0] === "images" ? 2 : 1);
      const help = await helpOf(sub);
      for (const flag of `${words} ${rest}`.match(/--[a-z-]+/g) ?? []) {
        expect(help, `wsparity ${sub.join(" ")} has no ${flag}`).toContain(flag);
      }
    }
  });
});

// A second reading: the GitLab simulator's CI semantics (config, parallel:matrix names, rules, needs).
describe(".gitlab-ci.yml as the GitLab simulator reads it", () => {
  const context = (source: string) => ({
    variables: {
      CI_PIPELINE_SOURCE: source,
      CI_COMMIT_BRANCH: "main",
      CI_DEFAULT_BRANCH: "main",
      CI_COMMIT_REF_NAME: "main",
    },
    source,
    ref: "main",
    tag: false,
    files: [".gitlab-ci.yml", "package.json"],
  });

  it("lints clean", () => {
    const lint = lintCiConfig(text);
    expect(lint.errors).toEqual([]);
    expect(lint.valid).toBe(true);
  });

  it("gives a schedule the matrix jobs with GitLab's names, their tags, and the report job needing them all", () => {
    const { jobs } = seedPipeline(readCiConfig(text), context("schedule"));
    const parts = jobs.filter((j) => j.name.startsWith("nightly:part"));
    expect(parts.map((j) => j.name)).toContain("nightly:part: [docker, reference, amd64]");
    expect(parts).toHaveLength(8);
    // GitLab expands the matrix's variables in tags when it creates the job (Seed::Build#evaluate_runner_tags).
    const arm = parts.find((j) => j.name === "nightly:part: [docker, kubernetes, arm64]")!;
    expect(arm.parallel?.matrix).toEqual({ TIER: "docker", EXECUTOR: "kubernetes", ARCH: "arm64" });
    expect(arm.tags).toEqual(["wsparity", "tier-docker", "arch-arm64"]);
    const report = jobs.find((j) => j.name === "nightly:report")!;
    expect(report.needs?.map((n) => n.name).sort()).toEqual(parts.map((j) => j.name).sort());
    expect(jobs.map((j) => j.name)).not.toContain("test");
    // The tunnel's soak runs nightly only: ten minutes is too long for a merge request.
    const soak = jobs.find((j) => j.name === "nightly:soak")!;
    expect(soak.script).toContain(
      "npm run test:reliability -- test/reliability/tunnel-agents.reliability.test.ts",
    );
    expect(job("nightly:soak").rules).toEqual([
      { if: '$CI_PIPELINE_SOURCE == "schedule" && $WSPARITY_NIGHTLY_TIER != "sim"' },
    ]);
    expect((config["nightly:soak"] as { variables?: Record<string, string> }).variables).toEqual({
      WSPARITY_SOAK: "1",
    });
  });

  it("gives a schedule with WSPARITY_NIGHTLY_TIER=sim the sim tier's rows only, and the report job needing those", () => {
    const sim = context("schedule");
    const { jobs } = seedPipeline(readCiConfig(text), {
      ...sim,
      variables: { ...sim.variables, WSPARITY_NIGHTLY_TIER: "sim" },
    });
    expect(jobs.map((j) => [j.name, j.tags.join(" ")])).toEqual([
      ["nightly:part: [sim, reference, amd64]", "wsparity tier-sim arch-amd64"],
      ["nightly:part: [sim, shell, amd64]", "wsparity tier-sim arch-amd64"],
      ["nightly:part: [sim, kubernetes, amd64]", "wsparity tier-sim arch-amd64"],
      ["nightly:report", ""],
    ]);
    expect(jobs[3]!.needs?.map((n) => n.name)).toEqual(jobs.slice(0, 3).map((j) => j.name));
  });

  it("gives a merge request lint, typecheck and test only", () => {
    const { jobs } = seedPipeline(readCiConfig(text), context("merge_request_event"));
    expect(jobs.map((j) => j.name).sort()).toEqual(["lint", "test", "typecheck"]);
  });
});
