import type { Cell, FeatureStatus, Gap, GapSeverity, Summary } from "./model.ts";
import { cellKey } from "./model.ts";

const RANK: Record<FeatureStatus, number | null> = {
  supported: 3,
  degraded: 2,
  unsupported: 1,
  error: 0,
  "not-applicable": null,
};

/** The Kubernetes cell a CI cell is judged against: same scenario and arch, else the scenario's amd64 one. */
export function referenceCell(cells: readonly Cell[], ci: Cell): Cell | undefined {
  const refs = cells.filter((c) => c.path === "kubernetes" && c.scenario === ci.scenario);
  return refs.find((c) => c.arch === ci.arch) ?? refs.find((c) => c.arch === "amd64") ?? refs[0];
}

function statusOf(cell: Cell | undefined, feature: string): FeatureStatus | undefined {
  return cell?.features.find((f) => f.id === feature)?.status;
}

function severity(reference: FeatureStatus, worst: FeatureStatus): GapSeverity {
  if (reference === "supported" && (worst === "unsupported" || worst === "error")) return "critical";
  if (worst === "degraded") return "minor";
  return "major";
}

/** A gap: a feature some CI cell does worse than the Kubernetes reference (not-applicable on either side is no gap). */
export function computeGaps(cells: readonly Cell[]): Gap[] {
  const gaps = new Map<string, Gap>();
  for (const ci of cells.filter((c) => c.path === "ci")) {
    const ref = referenceCell(cells, ci);
    for (const result of ci.features) {
      const reference = statusOf(ref, result.id);
      if (reference === undefined) continue;
      const refRank = RANK[reference];
      const rank = RANK[result.status];
      if (refRank === null || rank === null || rank >= refRank) continue;
      const key = `${ci.scenario}\u0000${result.id}`;
      const gap = gaps.get(key) ?? {
        feature: result.id,
        scenario: ci.scenario,
        reference,
        observed: {},
        severity: "minor" as GapSeverity,
      };
      gap.observed[cellKey(ci)] = result.status;
      gaps.set(key, gap);
    }
  }
  for (const gap of gaps.values()) {
    const worst = Object.values(gap.observed).reduce<FeatureStatus>(
      (w, s) => ((RANK[s] ?? 9) < (RANK[w] ?? 9) ? s : w),
      gap.reference,
    );
    gap.severity = severity(gap.reference, worst);
  }
  return [...gaps.values()].sort(
    (a, b) => a.scenario.localeCompare(b.scenario) || a.feature.localeCompare(b.feature),
  );
}

export function summarize(cells: readonly Cell[], gaps: readonly Gap[]): Summary {
  let compared = 0;
  let matched = 0;
  for (const ci of cells.filter((c) => c.path === "ci")) {
    const ref = referenceCell(cells, ci);
    for (const result of ci.features) {
      if (statusOf(ref, result.id) !== "supported" || result.status === "not-applicable") continue;
      compared++;
      if (result.status === "supported") matched++;
    }
  }
  return {
    cells: cells.length,
    features: cells.reduce((n, c) => n + c.features.length, 0),
    gaps: gaps.length,
    compared,
    parityPct: compared === 0 ? 0 : Math.round((matched / compared) * 10_000) / 100,
  };
}
