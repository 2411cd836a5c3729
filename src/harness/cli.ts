import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { withVarOption } from "../devfile/cli.ts";
import { compareReports, comparisonFailed, formatComparison } from "../report/compare.ts";
import { evaluateGate, formatVerdict } from "../report/gate.ts";
import { renderMarkdown } from "../report/markdown.ts";
import type { Arch, Executor, Tier, WorkspacePath } from "../report/model.ts";
import { loadPolicy } from "../report/policy.ts";
import { readReport } from "../report/read.ts";
import { readTierSettings } from "../tier/settings.ts";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { defaultScenarioFiles, loadScenarios } from "./load-scenarios.ts";
import { createProgress, type ProgressMode } from "./progress.ts";
import { runScenarios } from "./run.ts";
import { parseShard, type Shard } from "./shard.ts";
import { createTierSetup, detectTier, tierFromSettingsFile } from "./tiers/index.ts";

function list<T extends string>(flag: string, allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = items.filter((i) => !allowed.includes(i as T));
    if (bad.length > 0 || items.length === 0)
      throw new UsageError(`${flag} takes a comma list of ${allowed.join(", ")}; got "${value}"`);
    return items as T[];
  };
}

interface RunFlags {
  tier?: Tier;
  settings?: string;
  paths?: WorkspacePath[];
  executors?: Executor[];
  arch?: Arch[];
  adapt?: "gitlab";
  out?: string;
  baseline?: string;
  gate?: string;
  progress: ProgressMode;
  shard?: Shard;
  var: Record<string, string>;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, "-");
}

export function registerRunCommand(program: Command): void {
  const run = program
    .command("run")
    .description(
      "Launch each scenario's devfile through the Kubernetes path and the CI path on every executor and architecture of the tier, probe every feature live, and write report.json, report.md, report.html and junit.xml.",
    )
    .argument("[files...]", "scenario files or plain devfiles (default: every scenarios/*.yaml)")
    .option(
      "--tier <tier>",
      "sim | docker | live (default: docker where a Docker engine answers, else sim)",
      (v) => {
        if (!["sim", "docker", "live"].includes(v))
          throw new UsageError(`--tier must be sim, docker or live; got "${v}"`);
        return v as Tier;
      },
    )
    .option(
      "--settings <file>",
      "run against the tier this settings file describes (DIR/tier.yaml of sim up, live init's, or one written by hand); nothing is started",
    )
    .option("--paths <list>", "kubernetes,ci", list("--paths", ["kubernetes", "ci"] as const))
    .option(
      "--executors <list>",
      "shell,docker,kubernetes (CI path)",
      list("--executors", ["shell", "docker", "kubernetes"] as const),
    )
    .option("--arch <list>", "amd64,arm64", list("--arch", ["amd64", "arm64"] as const))
    .option(
      "--shard <i/n>",
      "run slice i of n of the matrix (a scenario's Kubernetes cell stays with its CI cells); join the parts with `wsparity merge`",
      parseShard,
    )
    .option(
      "--adapt <rules>",
      "gitlab: run each devfile with the smallest changes GitLab's rules need (listed in the report)",
      (v) => {
        if (v !== "gitlab") throw new UsageError(`--adapt takes gitlab; got "${v}"`);
        return v as "gitlab";
      },
    )
    .option("--out <dir>", "report folder (default: reports/<timestamp>)")
    .option("--baseline <report>", "compare with an earlier report.json; exit 1 when this run is worse")
    .option(
      "--gate <policy>",
      "check the report against a rollout policy; exit 1 when its gate stage is not reached",
    )
    .option(
      "--progress <mode>",
      "human (lines on stderr), quiet, or jsonl (events on stdout)",
      (v) => {
        if (!["human", "quiet", "jsonl"].includes(v))
          throw new UsageError(`--progress must be human, quiet or jsonl; got "${v}"`);
        return v as ProgressMode;
      },
      "human" as ProgressMode,
    );
  withVarOption(run).action(async (files: string[], flags: RunFlags) => {
    const runId = timestamp(new Date());
    const outDir = flags.out ?? join("reports", runId);
    const scenarioFiles = files.length > 0 ? files : await defaultScenarioFiles();
    if (scenarioFiles.length === 0)
      throw new UsageError("no scenarios to run: add scenarios/*.yaml or pass a devfile");
    const scenarios = await loadScenarios(scenarioFiles, flags.var, flags.adapt);
    const policy = flags.gate ? await loadPolicy(flags.gate) : undefined;
    const baseline = flags.baseline ? await readReport(flags.baseline) : undefined;
    const settings = flags.settings ? readTierSettings(flags.settings) : undefined;
    if (settings && flags.tier && flags.tier !== settings.tier)
      throw new UsageError(
        `--tier ${flags.tier} contradicts ${flags.settings}, whose tier is ${settings.tier}`,
      );
    const tier = settings?.tier ?? flags.tier ?? (await detectTier());
    const progress = createProgress(flags.progress);
    await mkdir(outDir, { recursive: true });

    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      interrupts++;
      if (interrupts === 1) {
        progress.note(
          `${signal}: finishing the current step, cleaning up and writing the report (again to force)`,
        );
        controller.abort();
      } else process.exit(130);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // Absolute: runners and kubelets run commands from folders of their own.
    const stateDir = resolve(outDir, ".state");
    let report: Awaited<ReturnType<typeof runScenarios>>;
    const log = (line: string) => progress.note(line);
    const setup =
      settings && flags.settings
        ? await tierFromSettingsFile(settings, flags.settings, log)
        : await createTierSetup(tier, { stateDir, log });
    try {
      report = await runScenarios({
        scenarios,
        setup,
        overrides: { paths: flags.paths, executors: flags.executors, arch: flags.arch },
        outDir,
        progress,
        signal: controller.signal,
        runId,
        ...(flags.shard ? { shard: flags.shard } : {}),
      });
    } finally {
      await setup.close();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (flags.progress !== "jsonl") process.stdout.write(renderMarkdown(report));
    progress.note(`reports in ${outDir}: report.json, report.md, report.html, junit.xml`);
    const failures: string[] = [];
    if (setup.broken) failures.push(`no cell could run: ${setup.broken}`);
    if (baseline) {
      const comparison = compareReports(baseline, report);
      process.stderr.write(formatComparison(comparison));
      if (comparisonFailed(comparison)) failures.push(`worse than the baseline ${flags.baseline}`);
    }
    if (policy) {
      const verdict = evaluateGate(report, policy);
      process.stderr.write(formatVerdict(verdict));
      if (!verdict.passed)
        failures.push(
          `the gate needs stage ${verdict.required}, the report reaches ${verdict.reached ?? "none"}`,
        );
    }
    if (controller.signal.aborted) {
      process.exitCode = 130;
      return;
    }
    if (failures.length > 0) throw new CheckFailed(failures.join("; "));
  });
}
