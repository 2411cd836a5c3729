import { rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { compareReports, comparisonFailed, DEFAULT_COMPARE_OPTIONS, formatComparison } from "./compare.ts";
import { evaluateGate, formatVerdict } from "./gate.ts";
import { mergeReports } from "./merge.ts";
import type { Report } from "./model.ts";
import { loadPolicy } from "./policy.ts";
import { readReport } from "./read.ts";
import { applyRolloutFlag } from "./rollout-flag.ts";
import { assertValidReport } from "./validate.ts";
import { writeReports } from "./write.ts";

interface GateOptions {
  policy: string;
  stage?: string;
  json?: boolean;
  applyFlag?: string;
  gitlab?: string;
  token?: string;
  yes?: boolean;
}

/** Writes the report back where it was read: with its three siblings when it is a run's report.json. */
async function saveReport(file: string, report: Report): Promise<void> {
  if (basename(file) === "report.json") {
    await writeReports(dirname(file), report);
    return;
  }
  assertValidReport(report);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, file);
}

/** A part given as its report.json or as the folder `run --out` wrote. */
async function readPart(path: string) {
  const file = (await stat(path).catch(() => undefined))?.isDirectory() ? join(path, "report.json") : path;
  return { file, report: await readReport(file) };
}

function fraction(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative number such as 0.25, got "${value}"`);
  return n;
}

export function registerReportCommands(program: Command): void {
  program
    .command("compare")
    .description(
      "Compare two report.json files: new gaps, closed gaps, metric regressions beyond noise. Exits 1 when NEW is worse.",
    )
    .argument("<old>", "the baseline report.json")
    .argument("<new>", "the report.json to judge")
    .option(
      "--ratio-tolerance <fraction>",
      "relative change of a tunnel/baseline ratio counted as noise",
      String(DEFAULT_COMPARE_OPTIONS.ratioTolerance),
    )
    .option(
      "--startup-tolerance <fraction>",
      "relative growth of startup time counted as noise",
      String(DEFAULT_COMPARE_OPTIONS.startupTolerance),
    )
    .option("--json", "print the comparison as JSON")
    .action(
      async (
        oldFile: string,
        newFile: string,
        opts: { ratioTolerance: string; startupTolerance: string; json?: boolean },
      ) => {
        const comparison = compareReports(await readReport(oldFile), await readReport(newFile), {
          ...DEFAULT_COMPARE_OPTIONS,
          ratioTolerance: fraction(opts.ratioTolerance, "--ratio-tolerance"),
          startupTolerance: fraction(opts.startupTolerance, "--startup-tolerance"),
        });
        process.stdout.write(
          opts.json ? `${JSON.stringify(comparison, null, 2)}\n` : formatComparison(comparison),
        );
        if (comparisonFailed(comparison)) throw new CheckFailed(`${newFile} is worse than ${oldFile}`);
      },
    );

  program
    .command("gate")
    .description(
      "Check a report against a rollout policy (thresholds as data). Exits 0 when the policy's gate stage is reached, else 1.",
    )
    .argument("<report>", "report.json")
    .requiredOption("--policy <file>", "policy YAML, e.g. policies/rollout.yaml")
    .option("--stage <name>", "require this stage instead of the policy's `gate`")
    .option("--json", "print the verdict as JSON")
    .option(
      "--apply-flag <name>",
      "set this GitLab feature flag to the value the policy gives the stage reached (stage `flag:`), read it back, and record before and after in the report",
    )
    .option("--gitlab <url>", "GitLab instance for --apply-flag, e.g. https://gitlab.example.com")
    .option("--token <token>", "administrator token for --apply-flag (default: $GITLAB_TOKEN)")
    .option("--yes", "send the change; without it --apply-flag prints the request (dry run)")
    .action(async (reportFile: string, opts: GateOptions) => {
      const policy = await loadPolicy(opts.policy);
      if (opts.stage) {
        if (!policy.stages.some((s) => s.name === opts.stage)) {
          throw new UsageError(
            `--stage ${opts.stage} is not in ${opts.policy} (stages: ${policy.stages.map((s) => s.name).join(", ")})`,
          );
        }
        policy.gate = opts.stage;
      }
      if (opts.applyFlag && !opts.gitlab) throw new UsageError("--apply-flag needs --gitlab URL");
      const token = opts.token ?? process.env.GITLAB_TOKEN;
      if (opts.applyFlag && !token)
        throw new UsageError("--apply-flag needs an administrator token: --token or $GITLAB_TOKEN");
      const report = await readReport(reportFile);
      const verdict = evaluateGate(report, policy);
      process.stdout.write(opts.json ? `${JSON.stringify(verdict, null, 2)}\n` : formatVerdict(verdict));
      if (opts.applyFlag) {
        const rollout = await applyRolloutFlag(policy, verdict.reached, {
          gitlab: opts.gitlab!,
          token: token!,
          flag: opts.applyFlag,
          yes: opts.yes ?? false,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        if (rollout.applied) await saveReport(reportFile, { ...report, rollout });
      }
      if (!verdict.passed)
        throw new CheckFailed(
          `gate failed: the report reaches stage ${verdict.reached ?? "none"}, ${verdict.required} required`,
        );
    });

  program
    .command("merge")
    .description(
      "Join part reports of one matrix (run --shard i/n, or runs with cell filters) into the report a single run over the same cells gives: gaps and summary computed again from the joined cells. Refuses parts of different tiers, catalog versions or scenario sets, overlapping parts, and shards that leave cells out.",
    )
    .argument("<parts...>", "part reports: report.json files or the folders run --out wrote")
    .requiredOption("--out <dir>", "folder for the merged report.json, report.md, report.html, junit.xml")
    .action(async (paths: string[], opts: { out: string }) => {
      const parts = [];
      for (const path of paths) parts.push(await readPart(path));
      const runId = `merged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      const report = mergeReports(parts, runId);
      await writeReports(opts.out, report);
      process.stdout.write(
        `merged ${parts.length} part(s), ${report.cells.length} cell(s), ${report.gaps.length} gap(s) into ${opts.out}\n`,
      );
    });
}
