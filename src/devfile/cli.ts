import type { Command } from "commander";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { type DevfileError, formatError } from "./errors.ts";
import { type DevfileResult, loadDevfile, type RuleSet, UNREADABLE_RULE } from "./load.ts";

/** The `devfile` command group; other modules attach their subcommands (to-k8s, to-ci) to the same group. */
export function devfileCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === "devfile");
  if (existing) return existing;
  return program
    .command("devfile")
    .description("Work with devfiles: validate them, and turn them into what each path runs.");
}

function collectVariable(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new UsageError(`--var wants NAME=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `--var NAME=VALUE` (repeatable), the same on every command that reads devfiles; parsed into `opts.var`. */
export function withVarOption(command: Command): Command {
  return command.option(
    "--var <name=value>",
    "give a devfile {{variable}} a value (repeatable); overrides the devfile's own",
    collectVariable,
    {},
  );
}

export function parseRules(value: string | undefined): RuleSet {
  if (value === undefined || value === "default") return "default";
  if (value === "gitlab") return "gitlab";
  throw new UsageError(`--rules must be "default" or "gitlab", got "${value}"`);
}

interface ValidateOptions {
  rules?: string;
  json?: boolean;
  var: Record<string, string>;
}

interface FileVerdict {
  file: string;
  valid: boolean;
  unreadable: boolean;
  errors: DevfileError[];
  warnings: DevfileError[];
}

function verdictOf(file: string, result: DevfileResult): FileVerdict {
  if (result.ok) return { file, valid: true, unreadable: false, errors: [], warnings: result.warnings };
  const unreadable = result.errors.some((e) => e.rule === UNREADABLE_RULE);
  return { file, valid: false, unreadable, errors: result.errors, warnings: [] };
}

function describeValid(result: DevfileResult & { ok: true }): string {
  const { spec } = result;
  const endpoints = spec.containers.reduce((n, c) => n + c.endpoints.length, 0);
  return `schemaVersion ${spec.schemaVersion}, ${spec.containers.length} container(s), ${endpoints} endpoint(s), ${spec.volumes.length} volume(s), ${spec.commands.length} command(s)`;
}

export function registerDevfileCommands(program: Command): void {
  const validate = devfileCommand(program)
    .command("validate")
    .description(
      "Validate devfiles: YAML, the official schema of their schemaVersion (2.0.0–2.3.0), flattening (parent, plugins, {{variables}}), and with --rules gitlab what GitLab accepts for a workspace. Exits 0 when all are valid, 1 when one is invalid, 2 when one cannot be read.",
    )
    .argument("<files...>", "devfile paths")
    .option(
      "--rules <rules>",
      'which rules: "default" (the devfile specification) or "gitlab" (GitLab workspaces)',
      "default",
    )
    .option("--json", "print the verdicts and errors as JSON");
  withVarOption(validate).action(async (files: string[], opts: ValidateOptions) => {
    const rules = parseRules(opts.rules);
    const verdicts: FileVerdict[] = [];
    for (const file of files) {
      const result = await loadDevfile(file, { rules, variables: opts.var });
      const verdict = verdictOf(file, result);
      verdicts.push(verdict);
      if (opts.json) continue;
      if (result.ok) {
        process.stdout.write(`✓ ${file}: valid under ${rules} rules (${describeValid(result)})\n`);
        for (const w of result.warnings) process.stdout.write(`  warning: ${formatError(w)}\n`);
      } else {
        for (const e of result.errors) process.stdout.write(`${formatError(e)}\n`);
        const what = verdict.unreadable
          ? "cannot be read"
          : `invalid under ${rules} rules (${result.errors.length} error(s))`;
        process.stdout.write(`✗ ${file}: ${what}\n`);
      }
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ rules, files: verdicts }, null, 2)}\n`);
    }
    const unreadable = verdicts.filter((v) => v.unreadable);
    if (unreadable.length > 0) {
      throw new UsageError(`cannot read ${unreadable.map((v) => v.file).join(", ")}`);
    }
    const invalid = verdicts.filter((v) => !v.valid);
    if (invalid.length > 0) {
      throw new CheckFailed(
        `${invalid.length} of ${verdicts.length} devfile(s) invalid under ${rules} rules`,
      );
    }
  });
}
