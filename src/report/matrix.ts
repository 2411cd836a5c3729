import { FEATURE_IDS } from "../harness/catalog.ts";
import type { Cell, FeatureResult, Report } from "./model.ts";

export interface ScenarioMatrix {
  scenario: string;
  cells: Cell[];
  /** Feature ids in catalog order, then any others the probes reported. */
  features: string[];
  result(cell: Cell, feature: string): FeatureResult | undefined;
}

/** Features × cells per scenario, the shape the Markdown and HTML matrices render. */
export function scenarioMatrices(report: Report): ScenarioMatrix[] {
  const scenarios = [...new Set(report.cells.map((c) => c.scenario))];
  return scenarios.map((scenario) => {
    const cells = report.cells
      .filter((c) => c.scenario === scenario)
      .sort((a, b) => (a.path === b.path ? 0 : a.path === "kubernetes" ? -1 : 1));
    const seen = new Set(cells.flatMap((c) => c.features.map((f) => f.id)));
    const features = [
      ...FEATURE_IDS.filter((id) => seen.has(id)),
      ...[...seen].filter((id) => !FEATURE_IDS.includes(id)),
    ];
    return {
      scenario,
      cells,
      features,
      result: (cell, feature) => cell.features.find((f) => f.id === feature),
    };
  });
}

export function columnLabel(cell: Cell): string {
  return cell.path === "kubernetes" ? `k8s ${cell.arch}` : `ci ${cell.executor ?? "?"} ${cell.arch}`;
}
