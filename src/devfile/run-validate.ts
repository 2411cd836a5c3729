import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { devfileCommand, withVarOption } from "./cli.ts";
import { type DevfileResult, loadDevfile, UNREADABLE_RULE } from "./load.ts";

export const DEFAULT_DEVFILE_DIR = "scenarios/devfiles";

/** Every *.yaml / *.yml under a directory (recursively, sorted), or the file itself. */
export async function findDevfiles(path: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new UsageError(`${path}: no such file or directory`);
  }
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await findDevfiles(child)));
    else if (/\.ya?ml$/i.test(entry.name)) out.push(child);
  }
  return out;
}

export interface SummaryRow {
  file: string;
  schemaVersion: string;
  containers: string;
  endpoints: string;
  defaultRules: string;
  gitlabRules: string;
  validByDefault: boolean;
  unreadable: boolean;
}

function verdict(result: DevfileResult): string {
  if (result.ok) return "valid";
  const first = result.errors[0]!;
  const more = result.errors.length > 1 ? ` (+${result.errors.length - 1} more)` : "";
  return `invalid: ${first.line}:${first.column} ${first.message}${more}`;
}

export async function summarise(file: string, variables: Record<string, string> = {}): Promise<SummaryRow> {
  const [byDefault, byGitlab] = [
    await loadDevfile(file, { variables }),
    await loadDevfile(file, { rules: "gitlab", variables }),
  ];
  const spec = byDefault.ok ? byDefault.spec : byGitlab.ok ? byGitlab.spec : undefined;
  return {
    file: relative(process.cwd(), file) || file,
    schemaVersion: spec?.schemaVersion ?? "-",
    containers: spec ? String(spec.containers.length) : "-",
    endpoints: spec ? String(spec.containers.reduce((n, c) => n + c.endpoints.length, 0)) : "-",
    defaultRules: verdict(byDefault),
    gitlabRules: verdict(byGitlab),
    validByDefault: byDefault.ok,
    unreadable: !byDefault.ok && byDefault.errors.some((e) => e.rule === UNREADABLE_RULE),
  };
}

const COLUMNS: [keyof SummaryRow, string][] = [
  ["file", "file"],
  ["schemaVersion", "schemaVersion"],
  ["containers", "containers"],
  ["endpoints", "endpoints"],
  ["defaultRules", "default rules"],
  ["gitlabRules", "gitlab rules (first error)"],
];

/** A Markdown table, so it reads in a terminal and pastes into an issue. */
export function formatSummary(rows: SummaryRow[]): string {
  const cell = (v: unknown) => String(v).replace(/\|/g, "\\|");
  const header = `| ${COLUMNS.map(([, title]) => title).join(" | ")} |`;
  const rule = `| ${COLUMNS.map(() => "---").join(" | ")} |`;
  const body = rows.map((r) => `| ${COLUMNS.map(([key]) => cell(r[key])).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

export function registerDevfileSummaryCommand(program: Command): void {
  const summary = devfileCommand(program)
    .command("summary")
    .description(
      `Validates every devfile under ${DEFAULT_DEVFILE_DIR}/ (or the files and folders given) with the default and the GitLab rules, and prints a summary table. Exits 1 when a devfile is invalid under the default rules (GitLab rejections are reported, not failures).`,
    )
    .argument("[paths...]", `devfiles or folders of devfiles (default: ${DEFAULT_DEVFILE_DIR})`);
  withVarOption(summary).action(async (paths: string[], opts: { var: Record<string, string> }) => {
    const roots = paths.length > 0 ? paths : [DEFAULT_DEVFILE_DIR];
    const files = (await Promise.all(roots.map(findDevfiles))).flat();
    if (files.length === 0) throw new UsageError(`no devfiles (*.yaml, *.yml) under ${roots.join(", ")}`);
    const rows: SummaryRow[] = [];
    for (const [i, file] of files.entries()) {
      process.stderr.write(`[${i + 1}/${files.length}] ${file}\n`);
      rows.push(await summarise(file, opts.var));
    }
    process.stdout.write(`${formatSummary(rows)}\n`);
    const gitlabOk = rows.filter((r) => r.gitlabRules === "valid").length;
    const defaultOk = rows.filter((r) => r.validByDefault).length;
    process.stdout.write(
      `\n${rows.length} devfile(s): ${defaultOk} valid under the default rules, ${gitlabOk} accepted by GitLab's rules.\n`,
    );
    const unreadable = rows.filter((r) => r.unreadable);
    if (unreadable.length > 0)
      throw new UsageError(`cannot read ${unreadable.map((r) => r.file).join(", ")}`);
    const invalid = rows.filter((r) => !r.validByDefault);
    if (invalid.length > 0) {
      throw new CheckFailed(
        `${invalid.length} devfile(s) invalid under the default rules: ${invalid.map((r) => r.file).join(", ")}`,
      );
    }
  });
}
