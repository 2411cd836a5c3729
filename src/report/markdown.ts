import { headline } from "./headline.ts";
import { columnLabel, scenarioMatrices } from "./matrix.ts";
import { cellLabel, FEATURE_STATUSES, type FeatureStatus, type Report } from "./model.ts";

const SYMBOL: Record<FeatureStatus, string> = {
  supported: "✅ supported",
  degraded: "⚠️ degraded",
  unsupported: "❌ unsupported",
  inconclusive: "❔ inconclusive",
  "not-applicable": "➖ n/a",
  error: "💥 error",
};

const escapeCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const row = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
const fmt = (n: number | undefined, digits = 0) => (n === undefined ? "–" : n.toFixed(digits));

export function renderMarkdown(report: Report): string {
  const s = report.summary;
  const head = headline(report);
  const out: string[] = [
    `# wsparity gap report — tier \`${report.tier}\``,
    "",
    `Run \`${report.runId}\`, ${report.startedAt} → ${report.finishedAt}.`,
    "",
    `**${head.counts}** · ${s.cells} cells · ${s.features} feature results`,
    "",
  ];
  if (head.notComparable.length > 0) {
    out.push("Not comparable:", "", ...head.notComparable.map((why) => `- ${why}`), "");
  }
  out.push(
    row(["path", ...FEATURE_STATUSES]),
    row(["---", ...FEATURE_STATUSES.map(() => "---:")]),
    ...(["kubernetes", "ci"] as const).map((path) =>
      row([path, ...FEATURE_STATUSES.map((status) => String(s.byPath[path][status]))]),
    ),
    "",
  );

  out.push("## Gaps", "");
  if (report.gaps.length === 0) out.push(head.noGaps, "");
  else {
    out.push(
      row(["severity", "scenario", "feature", "kubernetes", "CI observed", "detail"]),
      row(["---", "---", "---", "---", "---", "---"]),
    );
    for (const gap of report.gaps) {
      const observed = Object.entries(gap.observed)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      out.push(row([gap.severity, gap.scenario, gap.feature, gap.reference, observed, gap.detail ?? ""]));
    }
    out.push("");
  }

  const devfiles = report.scenarios.filter(
    (sc) => sc.gitlabRejects.length + sc.adaptations.length + sc.findings.length > 0,
  );
  if (devfiles.length > 0) {
    out.push("## Devfiles", "");
    for (const sc of devfiles) {
      out.push(`### ${sc.name} (\`${sc.devfile}\`)`, "");
      for (const message of sc.gitlabRejects) out.push(`- GitLab rejects it: ${message}`);
      for (const a of sc.adaptations) out.push(`- adapted \`${a.pointer}\`: ${a.change} (${a.rule})`);
      for (const finding of sc.findings) out.push(`- finding: ${finding}`);
      out.push("");
    }
  }

  const inconclusive = report.cells.flatMap((c) =>
    c.features.filter((f) => f.status === "inconclusive").map((f) => ({ cell: c, f })),
  );
  if (inconclusive.length > 0) {
    out.push("## Inconclusive", "", row(["cell", "feature", "why the probe could not check it"]));
    out.push(row(["---", "---", "---"]));
    for (const { cell, f } of inconclusive) out.push(row([cellLabel(cell), f.id, f.reason ?? f.evidence]));
    out.push("");
  }

  for (const matrix of scenarioMatrices(report)) {
    out.push(`## ${matrix.scenario}`, "");
    out.push(row(["cell", "status", "startup ms", "reason"]), row(["---", "---", "---:", "---"]));
    for (const cell of matrix.cells) {
      out.push(row([columnLabel(cell), cell.status, fmt(cell.startupMs ?? undefined), cell.reason ?? ""]));
    }
    out.push("");
    if (matrix.features.length > 0) {
      out.push(
        row(["feature", ...matrix.cells.map(columnLabel)]),
        row(["---", ...matrix.cells.map(() => "---")]),
      );
      for (const feature of matrix.features) {
        out.push(
          row([
            feature,
            ...matrix.cells.map((cell) => {
              const r = matrix.result(cell, feature);
              return r ? SYMBOL[r.status] : "";
            }),
          ]),
        );
      }
      out.push("");
    }
  }

  const withTunnel = report.cells.filter((c) => c.tunnel);
  if (withTunnel.length > 0) {
    out.push("## Tunnel", "");
    out.push(
      row([
        "cell",
        "p50 µs",
        "p95 µs",
        "p99 µs",
        "p95 × baseline",
        "download MB/s",
        "upload MB/s",
        "download × baseline",
      ]),
      row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
    );
    for (const cell of withTunnel) {
      const t = cell.tunnel!;
      out.push(
        row([
          cellLabel(cell),
          fmt(t.latencyUs.p50),
          fmt(t.latencyUs.p95),
          fmt(t.latencyUs.p99),
          fmt(t.ratio.latencyUs.p95, 2),
          fmt(t.throughputMBps.download, 1),
          fmt(t.throughputMBps.upload, 1),
          fmt(t.ratio.throughputMBps.download, 2),
        ]),
      );
    }
    out.push("");
  }
  return `${out.join("\n")}\n`;
}
