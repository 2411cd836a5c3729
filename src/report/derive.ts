import type {
  Cell,
  FeatureResult,
  FeatureStatus,
  Gap,
  GapSeverity,
  ScenarioSummary,
  StatusCounts,
  Summary,
  WorkspacePath,
} from "./model.ts";
import { cellKey, FEATURE_STATUSES } from "./model.ts";

/** Verdicts ranked for "does worse"; null: no verdict to compare (the pair is not comparable). */
const RANK: Record<FeatureStatus, number | null> = {
  supported: 3,
  degraded: 2,
  unsupported: 1,
  error: 0,
  inconclusive: null,
  "not-applicable": null,
};

/** The Kubernetes cell a CI cell is judged against: same scenario and arch, else the scenario's amd64 one. */
export function referenceCell(cells: readonly Cell[], ci: Cell): Cell | undefined {
  const refs = cells.filter((c) => c.path === "kubernetes" && c.scenario === ci.scenario);
  return refs.find((c) => c.arch === ci.arch) ?? refs.find((c) => c.arch === "amd64") ?? refs[0];
}

function resultOf(cell: Cell | undefined, feature: string): FeatureResult | undefined {
  return cell?.features.find((f) => f.id === feature);
}

export type PairVerdict =
  | { kind: "match" }
  | { kind: "gap"; detail?: string }
  | { kind: "not-comparable"; why: "no-reference" | "not-applicable" | "inconclusive" | "reference-error" };

/**
 * One CI result judged against its reference. Where the devfile's payload decides the outcome, both
 * paths recording the same `outcome` is parity even when the payload failed; a different one is a gap.
 * A reference error (e.g. GitLab rejects the devfile) leaves nothing to compare against; a CI error
 * against a reference verdict counts as doing worse.
 */
export function judgePair(reference: FeatureResult | undefined, ci: FeatureResult): PairVerdict {
  if (!reference) return { kind: "not-comparable", why: "no-reference" };
  if (reference.status === "not-applicable" || ci.status === "not-applicable")
    return { kind: "not-comparable", why: "not-applicable" };
  if (reference.status === "inconclusive" || ci.status === "inconclusive")
    return { kind: "not-comparable", why: "inconclusive" };
  if (reference.status === "error") return { kind: "not-comparable", why: "reference-error" };
  if ((RANK[ci.status] ?? 0) < (RANK[reference.status] ?? 0)) return { kind: "gap" };
  if (reference.outcome !== undefined && ci.outcome !== undefined && reference.outcome !== ci.outcome)
    return { kind: "gap", detail: `kubernetes: ${reference.outcome}; ci: ${ci.outcome}` };
  return { kind: "match" };
}

function severity(reference: FeatureStatus, worst: FeatureStatus): GapSeverity {
  if (reference === "supported" && (worst === "unsupported" || worst === "error")) return "critical";
  if (worst === "degraded") return "minor";
  return "major";
}

/**
 * A gap: a feature some CI cell does worse than the Kubernetes reference, or whose payload outcome
 * differs from the reference's. Not-applicable or inconclusive on either side is never a gap.
 */
export function computeGaps(cells: readonly Cell[]): Gap[] {
  const gaps = new Map<string, Gap>();
  for (const ci of cells.filter((c) => c.path === "ci")) {
    const ref = referenceCell(cells, ci);
    for (const result of ci.features) {
      const reference = resultOf(ref, result.id);
      const verdict = judgePair(reference, result);
      if (verdict.kind !== "gap" || !reference) continue;
      const key = `${ci.scenario}\u0000${result.id}`;
      const gap = gaps.get(key) ?? {
        feature: result.id,
        scenario: ci.scenario,
        reference: reference.status,
        observed: {},
        severity: "minor" as GapSeverity,
      };
      gap.observed[cellKey(ci)] = result.status;
      if (verdict.detail && !gap.detail?.split(" | ").includes(verdict.detail))
        gap.detail = gap.detail ? `${gap.detail} | ${verdict.detail}` : verdict.detail;
      gaps.set(key, gap);
    }
  }
  for (const gap of gaps.values()) {
    const worst = Object.values(gap.observed).reduce<FeatureStatus>(
      (w, s) => ((RANK[s] ?? 9) < (RANK[w] ?? 9) ? s : w),
      gap.reference,
    );
    gap.severity = gap.detail && worst === gap.reference ? "major" : severity(gap.reference, worst);
  }
  return [...gaps.values()].sort(
    (a, b) => a.scenario.localeCompare(b.scenario) || a.feature.localeCompare(b.feature),
  );
}

function emptyCounts(): StatusCounts {
  return Object.fromEntries(FEATURE_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Why pairs were not comparable, in words a reader acts on: GitLab's refusals first, then by pairs. */
function notComparableReasons(
  cells: readonly Cell[],
  scenarios: readonly ScenarioSummary[],
  why: Record<string, number>,
): string[] {
  const out: string[] = [];
  const rejected = scenarios.filter((s) => s.gitlabRejects.length > 0);
  if (rejected.length > 0)
    out.push(
      `GitLab rejects ${rejected.length} of ${plural(scenarios.length, "devfile")} (${rejected.map((s) => s.name).join(", ")}): run with --adapt gitlab to compare them`,
    );
  const causes: [string, string][] = [
    ["reference-error", "the Kubernetes reference could not run the probe (error)"],
    ["inconclusive", "a path could not check the feature (inconclusive)"],
    ["no-reference", "no Kubernetes reference cell for the scenario"],
    ["not-applicable", "the feature does not apply to the devfile or the cell"],
  ];
  const counted = causes
    .filter(([key]) => (why[key] ?? 0) > 0)
    .sort(([a], [b]) => (why[b] ?? 0) - (why[a] ?? 0))
    .map(([key, text]) => `${plural(why[key]!, "check")}: ${text}`);
  out.push(...counted);
  const ci = cells.filter((c) => c.path === "ci");
  if (ci.length === 0) out.push("no CI cell ran");
  else if (ci.every((c) => c.features.length === 0)) out.push("every CI cell was skipped");
  return out;
}

export function summarize(
  cells: readonly Cell[],
  gaps: readonly Gap[],
  scenarios: readonly ScenarioSummary[] = [],
): Summary {
  let compared = 0;
  let matched = 0;
  let comparable = 0;
  const why: Record<string, number> = {};
  const rejected = new Set(scenarios.filter((s) => s.gitlabRejects.length > 0).map((s) => s.name));
  for (const ci of cells.filter((c) => c.path === "ci")) {
    const ref = referenceCell(cells, ci);
    for (const result of ci.features) {
      const reference = resultOf(ref, result.id);
      const verdict = judgePair(reference, result);
      if (verdict.kind === "not-comparable") {
        const cause = rejected.has(ci.scenario) && verdict.why === "reference-error" ? "gitlab" : verdict.why;
        why[cause] = (why[cause] ?? 0) + 1;
        continue;
      }
      comparable++;
      if (reference?.status !== "supported") continue;
      compared++;
      if (verdict.kind === "match") matched++;
    }
  }
  const byPath: Record<WorkspacePath, StatusCounts> = { kubernetes: emptyCounts(), ci: emptyCounts() };
  for (const cell of cells) for (const f of cell.features) byPath[cell.path][f.status]++;
  return {
    cells: cells.length,
    features: cells.reduce((n, c) => n + c.features.length, 0),
    gaps: gaps.length,
    compared,
    parityPct: compared === 0 ? 0 : Math.round((matched / compared) * 10_000) / 100,
    comparable,
    inconclusive: why.inconclusive ?? 0,
    notComparable: notComparableReasons(cells, scenarios, why),
    byPath,
  };
}
