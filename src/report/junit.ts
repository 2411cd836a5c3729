import { judgePair, referenceCell } from "./derive.ts";
import type { Cell, FeatureResult, Report } from "./model.ts";
import { cellLabel } from "./model.ts";
import { escapeXml } from "./xml.ts";

type Outcome = { kind: "passed" } | { kind: "failure" | "error" | "skipped"; message: string };

/**
 * Kubernetes cells are the reference: anything short of supported there fails. CI cells fail only
 * where they do worse than their reference, so GitLab's test report lists exactly the gaps.
 */
function outcome(report: Report, cell: Cell, result: FeatureResult): Outcome {
  if (result.status === "error") return { kind: "error", message: `probe error: ${result.evidence}` };
  if (result.status === "not-applicable")
    return { kind: "skipped", message: `not-applicable: ${result.evidence}` };
  if (result.status === "inconclusive")
    return { kind: "skipped", message: `inconclusive: ${result.reason ?? result.evidence}` };
  if (cell.path === "kubernetes")
    return result.status === "supported"
      ? { kind: "passed" }
      : { kind: "failure", message: `${result.status} on the reference path` };
  const reference = referenceCell(report.cells, cell)?.features.find((f) => f.id === result.id);
  const verdict = judgePair(reference, result);
  if (verdict.kind === "gap") {
    return {
      kind: "failure",
      message: verdict.detail ?? `${result.status} here, ${reference?.status} on Kubernetes`,
    };
  }
  return { kind: "passed" };
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(report: Report, cell: Cell, result: FeatureResult): { xml: string; outcome: Outcome } {
  const classname = escapeXml(
    `wsparity.${cell.scenario}.${cell.path}.${cell.executor ?? "none"}.${cell.arch}`,
  );
  const o = outcome(report, cell, result);
  const body =
    o.kind === "passed"
      ? ""
      : o.kind === "skipped"
        ? `<skipped message="${escapeXml(o.message)}"/>`
        : `<${o.kind} message="${escapeXml(o.message)}" type="${escapeXml(result.status)}">${escapeXml(result.evidence)}</${o.kind}>`;
  const xml = `    <testcase classname="${classname}" name="${escapeXml(result.id)}" time="${seconds(result.durationMs)}">${body}<system-out>${escapeXml(result.evidence)}</system-out></testcase>`;
  return { xml, outcome: o };
}

function cellCase(cell: Cell): { xml: string; outcome: Outcome } | undefined {
  if (cell.status === "passed") return undefined;
  const classname = escapeXml(
    `wsparity.${cell.scenario}.${cell.path}.${cell.executor ?? "none"}.${cell.arch}`,
  );
  const reason = cell.reason ?? cell.status;
  const o: Outcome =
    cell.status === "skipped" || cell.status === "environment"
      ? { kind: "skipped", message: cell.status === "environment" ? `environment: ${reason}` : reason }
      : { kind: cell.status === "error" ? "error" : "failure", message: reason };
  const tag = o.kind === "skipped" ? "skipped" : o.kind;
  const xml = `    <testcase classname="${classname}" name="workspace start" time="${seconds(cell.startupMs ?? 0)}"><${tag} message="${escapeXml(o.message)}"/></testcase>`;
  return { xml, outcome: o };
}

export function renderJunit(report: Report): string {
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  const suites = report.cells.map((cell) => {
    const cases = [cellCase(cell), ...cell.features.map((f) => testcase(report, cell, f))].filter(
      (c): c is { xml: string; outcome: Outcome } => c !== undefined,
    );
    const count = (kind: Outcome["kind"]) => cases.filter((c) => c.outcome.kind === kind).length;
    const time = cell.features.reduce((t, f) => t + f.durationMs, cell.startupMs ?? 0);
    const stats = {
      tests: cases.length,
      failures: count("failure"),
      errors: count("error"),
      skipped: count("skipped"),
    };
    totals.tests += stats.tests;
    totals.failures += stats.failures;
    totals.errors += stats.errors;
    totals.skipped += stats.skipped;
    totals.time += time;
    return [
      `  <testsuite name="${escapeXml(cellLabel(cell))}" tests="${stats.tests}" failures="${stats.failures}" errors="${stats.errors}" skipped="${stats.skipped}" time="${seconds(time)}" timestamp="${escapeXml(report.startedAt.replace(/Z$/, ""))}">`,
      ...cases.map((c) => c.xml),
      "  </testsuite>",
    ].join("\n");
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="wsparity ${escapeXml(report.tier)} ${escapeXml(report.runId)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds(totals.time)}">`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}
