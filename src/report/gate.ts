import { computeGaps, summarize } from "./derive.ts";
import { type Cell, cellLabel, type Report } from "./model.ts";
import { type CellSelector, compare, type MetricRule, type Policy, type Stage } from "./policy.ts";

export interface RuleResult {
  rule: string;
  passed: boolean;
  detail: string;
}

export interface StageResult {
  name: string;
  passed: boolean;
  rules: RuleResult[];
}

export interface GateVerdict {
  stages: StageResult[];
  /** The highest stage whose rules, and every earlier stage's, all pass; null when even the first fails. */
  reached: string | null;
  required: string;
  passed: boolean;
}

const SUMMARY_METRICS = ["parityPct", "gaps", "cells", "features", "compared", "comparable", "inconclusive"];
const GAP_SEVERITY = /^gaps\.(critical|major|minor)$/;

function matches(cell: Cell, selector: CellSelector, defaultPath: "ci" | undefined): boolean {
  const path = selector.path ?? defaultPath;
  return (
    (!path || cell.path === path) &&
    (!selector.executor || cell.executor === selector.executor) &&
    (!selector.arch || cell.arch === selector.arch) &&
    (!selector.scenario || cell.scenario === selector.scenario)
  );
}

function cellMetric(cell: Cell, metric: string): number | undefined {
  if (metric === "startupMs") return cell.startupMs ?? undefined;
  if (!metric.startsWith("tunnel.") || !cell.tunnel) return undefined;
  let value: unknown = cell.tunnel;
  for (const part of metric.split(".").slice(1))
    value = (value as Record<string, unknown> | undefined)?.[part];
  return typeof value === "number" ? value : undefined;
}

function reportMetric(report: Report, rule: MetricRule): number | undefined {
  const selected = report.cells.filter((c) => c.path === "kubernetes" || matches(c, rule.selector, "ci"));
  const gaps = computeGaps(selected);
  const severity = GAP_SEVERITY.exec(rule.metric);
  if (severity) return gaps.filter((g) => g.severity === severity[1]).length;
  if (SUMMARY_METRICS.includes(rule.metric)) {
    const summary = summarize(selected, gaps, report.scenarios) as unknown as Record<string, number>;
    return summary[rule.metric];
  }
  return undefined;
}

function checkMetric(report: Report, rule: MetricRule): RuleResult[] {
  const expressions = rule.thresholds.map((t) => t.source).join(" and ");
  const name = `${rule.key} ${expressions}`;
  const whole = reportMetric(report, rule);
  if (whole !== undefined) {
    const failed = rule.thresholds.filter((t) => !compare(whole, t));
    return [{ rule: name, passed: failed.length === 0, detail: `actual ${whole}` }];
  }
  const isCellMetric = rule.metric === "startupMs" || rule.metric.startsWith("tunnel.");
  if (!isCellMetric) {
    return [
      {
        rule: name,
        passed: false,
        detail: `unknown metric "${rule.metric}": use ${SUMMARY_METRICS.join(", ")}, gaps.critical|major|minor, startupMs or tunnel.*`,
      },
    ];
  }
  const cells = report.cells.filter(
    (c) => c.status !== "skipped" && c.status !== "environment" && matches(c, rule.selector, "ci"),
  );
  if (cells.length === 0) return [{ rule: name, passed: false, detail: "no cell in the report matches" }];
  const failures: string[] = [];
  const values: number[] = [];
  for (const cell of cells) {
    const value = cellMetric(cell, rule.metric);
    if (value === undefined) failures.push(`${cellLabel(cell)} has no ${rule.metric}`);
    else {
      values.push(value);
      if (rule.thresholds.some((t) => !compare(value, t))) failures.push(`${cellLabel(cell)} = ${value}`);
    }
  }
  const detail =
    failures.length > 0
      ? failures.join("; ")
      : `${cells.length} cells, range ${Math.min(...values)}–${Math.max(...values)}`;
  return [{ rule: name, passed: failures.length === 0, detail }];
}

function checkStage(report: Report, stage: Stage): StageResult {
  const rules = stage.metrics.flatMap((rule) => checkMetric(report, rule));
  for (const req of stage.require) {
    const where = Object.entries(req.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const name = `${req.feature} is ${req.status.join("|")}${where ? ` on ${where}` : ""}`;
    const cells = report.cells.filter((c) => matches(c, req.selector, undefined));
    const failures: string[] = [];
    let seen = 0;
    for (const cell of cells) {
      const result = cell.features.find((f) => f.id === req.feature);
      if (!result) continue;
      seen++;
      if (!req.status.includes(result.status)) failures.push(`${cellLabel(cell)}: ${result.status}`);
    }
    if (seen === 0) rules.push({ rule: name, passed: false, detail: "no matching cell probed this feature" });
    else
      rules.push({
        rule: name,
        passed: failures.length === 0,
        detail: failures.length ? failures.join("; ") : `${seen} cells`,
      });
  }
  return { name: stage.name, passed: rules.every((r) => r.passed), rules };
}

export function evaluateGate(report: Report, policy: Policy): GateVerdict {
  const stages = policy.stages.map((s) => checkStage(report, s));
  let reached: string | null = null;
  for (const s of stages) {
    if (!s.passed) break;
    reached = s.name;
  }
  const names = policy.stages.map((s) => s.name);
  const passed = reached !== null && names.indexOf(reached) >= names.indexOf(policy.gate);
  return { stages, reached, required: policy.gate, passed };
}

export function formatVerdict(verdict: GateVerdict): string {
  const lines: string[] = [];
  for (const stage of verdict.stages) {
    lines.push(`stage ${stage.name}: ${stage.passed ? "PASS" : "FAIL"}`);
    for (const r of stage.rules) lines.push(`  ${r.passed ? "✓" : "✗"} ${r.rule} — ${r.detail}`);
  }
  lines.push(
    `report supports stage: ${verdict.reached ?? "none"}; gate requires: ${verdict.required} → ${verdict.passed ? "PASS" : "FAIL"}`,
  );
  return `${lines.join("\n")}\n`;
}
