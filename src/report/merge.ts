// `wsparity merge PART… --out DIR`: part reports of one matrix (run --shard i/n, or cell filters) joined
// into the report a single run over the same cells gives. Playwright's blob reports and merge-reports
// are the model: parts carry what is needed to check they belong together, and the derived parts of
// the report (gaps, summary, findings) are computed again from the joined cells.
import { UsageError } from "../util/errors.ts";
import { buildReport } from "./build.ts";
import { scenarioFindings } from "./findings.ts";
import { type Cell, cellLabel, type Report, type ScenarioSummary } from "./model.ts";

export interface ReportPart {
  /** Where the part came from, for error messages. */
  file: string;
  report: Report;
}

/** What `run` records about the matrix in environment.matrix. */
interface MatrixInfo {
  cells: string[];
  shard: string | null;
  catalog: string;
}

function matrixOf(part: ReportPart): MatrixInfo {
  const m = part.report.environment.matrix as Partial<MatrixInfo> | undefined;
  if (!m || !Array.isArray(m.cells) || typeof m.catalog !== "string")
    throw new UsageError(
      `${part.file}: no environment.matrix (cells, catalog): it was written by a wsparity without shards; run it again`,
    );
  return { cells: m.cells, shard: m.shard ?? null, catalog: m.catalog };
}

/** Each distinct value with the files that have it, for an error that names them. */
function disagreement<T>(parts: readonly ReportPart[], value: (p: ReportPart) => T): string | undefined {
  const byValue = new Map<string, string[]>();
  for (const part of parts) {
    const key = JSON.stringify(value(part));
    byValue.set(key, [...(byValue.get(key) ?? []), part.file]);
  }
  if (byValue.size <= 1) return undefined;
  return [...byValue].map(([v, files]) => `${v} in ${files.join(", ")}`).join("; ");
}

const scenarioSet = (p: ReportPart) => p.report.scenarios.map((s) => ({ name: s.name, devfile: s.devfile }));

const PATH_ORDER = ["kubernetes", "ci"];
const EXECUTOR_ORDER = [null, "shell", "docker", "kubernetes"];
const ARCH_ORDER = ["amd64", "arm64"];

/** The order `run` gives cells when the parts' matrices differ (cell filters): scenario, path, executor, arch. */
function canonicalOrder(scenarios: readonly ScenarioSummary[]) {
  const names = scenarios.map((s) => s.name);
  const rank = (c: Cell) => [
    names.indexOf(c.scenario),
    PATH_ORDER.indexOf(c.path),
    EXECUTOR_ORDER.indexOf(c.executor),
    ARCH_ORDER.indexOf(c.arch),
  ];
  return (a: Cell, b: Cell) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return 0;
  };
}

export function mergeReports(parts: readonly ReportPart[], runId: string): Report {
  if (parts.length === 0) throw new UsageError("merge needs at least one part report");
  const matrices = new Map(parts.map((p) => [p, matrixOf(p)]));
  const problems = [
    ["tier", disagreement(parts, (p) => p.report.tier)],
    ["catalog version", disagreement(parts, (p) => matrices.get(p)!.catalog)],
    ["scenario set", disagreement(parts, scenarioSet)],
    ["report schema version", disagreement(parts, (p) => p.report.schemaVersion)],
  ].filter(([, d]) => d !== undefined);
  if (problems.length > 0)
    throw new UsageError(
      `these parts are not slices of one run: ${problems.map(([what, d]) => `different ${what}: ${d}`).join(" | ")}`,
    );

  // Every cell once: a cell in two parts means overlapping slices (or the same part given twice).
  const seen = new Map<string, string>();
  const cells: Cell[] = [];
  for (const part of parts) {
    for (const cell of part.report.cells) {
      const label = cellLabel(cell);
      const earlier = seen.get(label);
      if (earlier)
        throw new UsageError(
          `the cell "${label}" is in both ${earlier} and ${part.file}: parts must not overlap (give each shard once)`,
        );
      seen.set(label, part.file);
      cells.push(cell);
    }
  }

  const first = parts[0]!;
  const sameMatrix = disagreement(parts, (p) => matrices.get(p)!.cells) === undefined;
  const whole = matrices.get(first)!.cells;
  if (sameMatrix) {
    const missing = whole.filter((label) => !seen.has(label));
    if (missing.length > 0) {
      const shards = parts.map((p) => matrices.get(p)!.shard).filter(Boolean);
      throw new UsageError(
        `the parts do not cover the matrix: ${missing.length} cell(s) missing (${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}); given shards: ${shards.join(", ") || "none"}`,
      );
    }
    cells.sort((a, b) => whole.indexOf(cellLabel(a)) - whole.indexOf(cellLabel(b)));
  } else cells.sort(canonicalOrder(first.report.scenarios));

  const scenarios: ScenarioSummary[] = first.report.scenarios.map((s) => ({
    ...s,
    findings: scenarioFindings(s.name, s.gitlabRejects, cells),
  }));
  const times = parts.flatMap((p) => [Date.parse(p.report.startedAt), Date.parse(p.report.finishedAt)]);
  return buildReport({
    runId,
    startedAt: new Date(Math.min(...times)),
    finishedAt: new Date(Math.max(...times)),
    tier: first.report.tier,
    environment: {
      ...first.report.environment,
      matrix: {
        ...matrices.get(first)!,
        cells: sameMatrix ? whole : cells.map(cellLabel),
        shard: null,
      },
      merged: parts.map((p) => ({
        file: p.file,
        runId: p.report.runId,
        shard: matrices.get(p)!.shard,
        cells: p.report.cells.length,
        host: p.report.environment.host,
      })),
    },
    cells,
    scenarios,
  });
}
