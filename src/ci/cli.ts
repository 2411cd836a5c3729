// `wsparity devfile to-ci FILE`: the CI path's pipeline for a devfile, on stdout.

import type { Command } from "commander";
import { devfileCommand, parseRules, withVarOption } from "../devfile/cli.ts";
import { formatError, loadDevfile, UNREADABLE_RULE } from "../devfile/index.ts";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { benchCiPath, formatCiBench } from "./bench.ts";
import { generatePipeline } from "./pipeline.ts";
import { validateCiConfig } from "./schema.ts";
import { ARCHES, type Arch, EXECUTORS, type Executor } from "./types.ts";

interface ToCiOptions {
  executor: string;
  arch: string;
  rules?: string;
  timeout?: string;
  toolsImage?: string;
  json?: boolean;
  var: Record<string, string>;
}

export function registerCiCommands(program: Command): void {
  const toCi = devfileCommand(program)
    .command("to-ci")
    .description(
      "Print the .gitlab-ci.yml the CI path runs for a devfile (validated against GitLab's CI schema). " +
        "With --json, also the machine-readable list of devfile choices the executor cannot honour.",
    )
    .argument("<file>", "devfile path")
    .option("--executor <executor>", `runner executor: ${EXECUTORS.join(", ")}`, "docker")
    .option("--arch <arch>", `architecture: ${ARCHES.join(", ")}`, "amd64")
    .option("--rules <rules>", 'devfile rules: "default" or "gitlab"', "default")
    .option("--timeout <duration>", "job timeout, a GitLab duration such as 24h")
    .option("--tools-image <image>", "image of the tools service")
    .option("--json", "print {yaml, notHonoured, ...} as JSON");
  withVarOption(toCi).action(async (file: string, opts: ToCiOptions) => {
    if (!EXECUTORS.includes(opts.executor as Executor)) {
      throw new UsageError(`--executor must be one of ${EXECUTORS.join(", ")}, got "${opts.executor}"`);
    }
    if (!ARCHES.includes(opts.arch as Arch)) {
      throw new UsageError(`--arch must be one of ${ARCHES.join(", ")}, got "${opts.arch}"`);
    }
    const result = await loadDevfile(file, { rules: parseRules(opts.rules), variables: opts.var });
    if (!result.ok) {
      const message = result.errors.map(formatError).join("\n");
      if (result.errors.some((e) => e.rule === UNREADABLE_RULE)) throw new UsageError(message);
      throw new CheckFailed(`${message}\n${file}: invalid devfile, no pipeline generated`);
    }
    const pipeline = generatePipeline(result.spec, {
      executor: opts.executor as Executor,
      arch: opts.arch as Arch,
      ...(opts.timeout ? { timeout: opts.timeout } : {}),
      ...(opts.toolsImage ? { toolsImage: opts.toolsImage } : {}),
    });
    const schema = validateCiConfig(pipeline.config);
    if (!schema.valid) {
      throw new CheckFailed(
        `the generated pipeline fails GitLab's CI schema (a wsparity bug): ${schema.errors.join("; ")}`,
      );
    }
    if (opts.json) {
      const { config: _config, ...rest } = pipeline;
      process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    } else process.stdout.write(pipeline.yaml);
  });

  const bench =
    program.commands.find((c) => c.name() === "bench") ??
    program.command("bench").description("Benchmarks that print figures.");
  const benchCi = bench
    .command("ci")
    .description(
      "Create-to-reachable time of CI-path workspaces per executor and architecture (median of --runs), and the runner's job pickup latency with long polling. shell runs on the sim tier; docker and kubernetes need a Docker engine.",
    )
    .option("--runs <n>", "workspaces to start per cell", "10")
    .option("--devfile <file>", "devfile to start", "scenarios/devfiles/minimal.devfile.yaml")
    .option(
      "--executors <list>",
      "executors to measure: shell, docker, kubernetes (docker and kubernetes need a Docker engine and the images)",
      "shell",
    )
    .option("--json", "print the figures as JSON");
  withVarOption(benchCi).action(
    async (opts: {
      runs: string;
      devfile: string;
      executors: string;
      json?: boolean;
      var: Record<string, string>;
    }) => {
      const executors = opts.executors.split(",").map((e) => e.trim()) as Executor[];
      const unknown = executors.filter((e) => !EXECUTORS.includes(e));
      if (unknown.length > 0)
        throw new UsageError(`--executors: unknown ${unknown.join(", ")}; use ${EXECUTORS.join(", ")}`);
      const runs = Number(opts.runs);
      if (!Number.isInteger(runs) || runs < 1)
        throw new UsageError(`--runs must be a positive integer, got "${opts.runs}"`);
      const result = await benchCiPath({
        runs,
        devfile: opts.devfile,
        variables: opts.var,
        executors,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatCiBench(result));
    },
  );
}
