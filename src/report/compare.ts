import { judgePair, referenceCell } from "./derive.ts";
import { type Cell, cellKey, cellLabel, type Report } from "./model.ts";

export interface CompareOptions {
  /** Relative change of a baseline-normalised tunnel ratio that still counts as noise (0.25 = 25%). */
  ratioTolerance: number;
  /** Startup time may grow by this share, and by at least startupFloorMs, before it is a regression. */
  startupTolerance: number;
  startupFloorMs: number;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = {
  ratioTolerance: 0.25,
  startupTolerance: 0.5,
  startupFloorMs: 500,
};

export interface GapChange {
  scenario: string;
  feature: string;
  cell: string;
  status: string;
}

export interface Regression {
  cell: string;
  metric: string;
  old: number;
  new: number;
  change: string;
}

export interface Comparison {
  newGaps: GapChange[];
  closedGaps: GapChange[];
  /** Old gaps the new report could not check (inconclusive, not-applicable or no reference): not closed. */
  uncheckedGaps: GapChange[];
  /** Comparable checks in each report: a parity change over far fewer checks says little. */
  comparable: { old: number; new: number };
  regressions: Regression[];
  improvements: Regression[];
  parity: { old: number; new: number };
  /** Cells in one report only: compared by nothing, listed so a missing cell is noticed. */
  unmatchedCells: string[];
}

function gapEntries(report: Report): Map<string, GapChange> {
  const out = new Map<string, GapChange>();
  for (const gap of report.gaps) {
    for (const [cell, status] of Object.entries(gap.observed)) {
      out.set(`${gap.scenario}\u0000${gap.feature}\u0000${cell}`, {
        scenario: gap.scenario,
        feature: gap.feature,
        cell,
        status,
      });
    }
  }
  return out;
}

/** Whether the report reached a comparable verdict for the gap's feature on the gap's CI cell. */
function checkedIn(report: Report, g: GapChange): boolean {
  const ci = report.cells.find((c) => c.path === "ci" && c.scenario === g.scenario && cellKey(c) === g.cell);
  const result = ci?.features.find((f) => f.id === g.feature);
  if (!ci || !result) return false;
  const reference = referenceCell(report.cells, ci)?.features.find((f) => f.id === g.feature);
  return judgePair(reference, result).kind !== "not-comparable";
}

const identity = (c: Cell) => `${c.scenario}\u0000${c.path}\u0000${cellKey(c)}`;

type Direction = "lower-is-better" | "higher-is-better";

const RATIO_METRICS: { metric: string; get: (c: Cell) => number | undefined; direction: Direction }[] = [
  {
    metric: "tunnel.ratio.latencyUs.p50",
    get: (c) => c.tunnel?.ratio.latencyUs.p50,
    direction: "lower-is-better",
  },
  {
    metric: "tunnel.ratio.latencyUs.p95",
    get: (c) => c.tunnel?.ratio.latencyUs.p95,
    direction: "lower-is-better",
  },
  {
    metric: "tunnel.ratio.latencyUs.p99",
    get: (c) => c.tunnel?.ratio.latencyUs.p99,
    direction: "lower-is-better",
  },
  {
    metric: "tunnel.ratio.throughputMBps.download",
    get: (c) => c.tunnel?.ratio.throughputMBps.download,
    direction: "higher-is-better",
  },
  {
    metric: "tunnel.ratio.throughputMBps.upload",
    get: (c) => c.tunnel?.ratio.throughputMBps.upload,
    direction: "higher-is-better",
  },
];

/**
 * Noise is judged on ratios against a baseline measured in the same run (direct loopback or the
 * Kubernetes proxy), which cancels most of a shared machine's speed swings; a ratio must move past
 * ratioTolerance to count. Startup time has no in-run baseline, so it gets a wider relative band and a floor.
 */
export function compareReports(
  oldReport: Report,
  newReport: Report,
  options: CompareOptions = DEFAULT_COMPARE_OPTIONS,
): Comparison {
  const oldGaps = gapEntries(oldReport);
  const newGaps = gapEntries(newReport);
  const gone = [...oldGaps].filter(([k]) => !newGaps.has(k)).map(([, v]) => v);
  const stillChecked = (g: GapChange) => checkedIn(newReport, g);
  const comparison: Comparison = {
    newGaps: [...newGaps].filter(([k]) => !oldGaps.has(k)).map(([, v]) => v),
    closedGaps: gone.filter(stillChecked),
    uncheckedGaps: gone.filter((g) => !stillChecked(g)),
    comparable: { old: oldReport.summary.comparable, new: newReport.summary.comparable },
    regressions: [],
    improvements: [],
    parity: { old: oldReport.summary.parityPct, new: newReport.summary.parityPct },
    unmatchedCells: [],
  };
  const oldCells = new Map(oldReport.cells.map((c) => [identity(c), c]));
  const newIds = new Set(newReport.cells.map(identity));
  for (const c of oldReport.cells)
    if (!newIds.has(identity(c))) comparison.unmatchedCells.push(`only in old: ${cellLabel(c)}`);
  for (const cell of newReport.cells) {
    const before = oldCells.get(identity(cell));
    if (!before) {
      comparison.unmatchedCells.push(`only in new: ${cellLabel(cell)}`);
      continue;
    }
    const label = cellLabel(cell);
    for (const m of RATIO_METRICS) {
      const a = m.get(before);
      const b = m.get(cell);
      if (a === undefined || b === undefined || a <= 0) continue;
      const rel = (b - a) / a;
      const worse =
        m.direction === "lower-is-better" ? rel > options.ratioTolerance : rel < -options.ratioTolerance;
      const better =
        m.direction === "lower-is-better" ? rel < -options.ratioTolerance : rel > options.ratioTolerance;
      const entry = {
        cell: label,
        metric: m.metric,
        old: a,
        new: b,
        change: `${rel >= 0 ? "+" : ""}${(rel * 100).toFixed(1)}%`,
      };
      if (worse) comparison.regressions.push(entry);
      else if (better) comparison.improvements.push(entry);
    }
    if (before.startupMs !== null && cell.startupMs !== null && before.startupMs > 0) {
      const delta = cell.startupMs - before.startupMs;
      const entry = {
        cell: label,
        metric: "startupMs",
        old: before.startupMs,
        new: cell.startupMs,
        change: `${delta >= 0 ? "+" : ""}${((delta / before.startupMs) * 100).toFixed(1)}%`,
      };
      const band = Math.max(before.startupMs * options.startupTolerance, options.startupFloorMs);
      if (delta > band) comparison.regressions.push(entry);
      else if (-delta > band) comparison.improvements.push(entry);
    }
  }
  return comparison;
}

export function comparisonFailed(c: Comparison): boolean {
  return c.newGaps.length > 0 || c.regressions.length > 0 || c.parity.new < c.parity.old;
}

export function formatComparison(c: Comparison): string {
  const lines = [
    `parity: ${c.parity.old}% → ${c.parity.new}% (comparable checks: ${c.comparable.old} → ${c.comparable.new})`,
  ];
  const section = (title: string, items: string[]) => {
    lines.push(`${title}: ${items.length === 0 ? "none" : ""}`);
    for (const item of items) lines.push(`  ${item}`);
  };
  section(
    "new gaps",
    c.newGaps.map((g) => `${g.scenario} ${g.feature} on ${g.cell}: ${g.status}`),
  );
  section(
    "closed gaps",
    c.closedGaps.map((g) => `${g.scenario} ${g.feature} on ${g.cell} (was ${g.status})`),
  );
  if (c.uncheckedGaps.length > 0)
    section(
      "gaps no longer checked (not closed)",
      c.uncheckedGaps.map((g) => `${g.scenario} ${g.feature} on ${g.cell} (was ${g.status})`),
    );
  section(
    "regressions beyond noise",
    c.regressions.map((r) => `${r.cell} ${r.metric}: ${r.old} → ${r.new} (${r.change})`),
  );
  section(
    "improvements beyond noise",
    c.improvements.map((r) => `${r.cell} ${r.metric}: ${r.old} → ${r.new} (${r.change})`),
  );
  if (c.unmatchedCells.length > 0) section("cells in one report only", c.unmatchedCells);
  lines.push(comparisonFailed(c) ? "verdict: WORSE" : "verdict: no regression");
  return `${lines.join("\n")}\n`;
}
