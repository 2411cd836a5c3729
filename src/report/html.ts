import { headline } from "./headline.ts";
import { columnLabel, scenarioMatrices } from "./matrix.ts";
import { cellLabel, type Report } from "./model.ts";
import { groupedBarChart } from "./svg-chart.ts";
import { escapeXml as esc } from "./xml.ts";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.status{position:relative;cursor:help;font-weight:600}
td.supported{background:#d8f5d0}td.degraded{background:#fff1c2}td.unsupported{background:#fbd3d0}
td.error{background:#f4b6ff}td.inconclusive{background:#dde7f5}td.not-applicable{background:#eee;color:#777}
td.status:hover::after{content:attr(data-evidence);position:absolute;left:0;top:100%;z-index:2;
  width:360px;white-space:pre-wrap;font-weight:400;background:#222;color:#fff;padding:6px;border-radius:4px}
.summary span{margin-right:18px}.chart-title{font-weight:600;font-size:13px}.axis{font-size:11px;fill:#444}
`;

function matrixTables(report: Report): string {
  return scenarioMatrices(report)
    .map((m) => {
      const head = `<tr><th>feature</th>${m.cells.map((c) => `<th title="${esc(c.reason ?? c.status)}">${esc(columnLabel(c))}<br><small>${esc(c.status)}</small></th>`).join("")}</tr>`;
      const rows = m.features
        .map((feature) => {
          const tds = m.cells
            .map((cell) => {
              const r = m.result(cell, feature);
              if (!r) return "<td></td>";
              const seen = r.reason ? `${r.reason} (observed: ${r.evidence})` : r.evidence;
              return `<td class="status ${esc(r.status)}" data-feature="${esc(feature)}" data-evidence="${esc(seen)}" title="${esc(seen)}">${esc(r.status)}</td>`;
            })
            .join("");
          return `<tr><th>${esc(feature)}</th>${tds}</tr>`;
        })
        .join("");
      return `<h2>${esc(m.scenario)}</h2><table class="matrix" data-scenario="${esc(m.scenario)}">${head}${rows}</table>`;
    })
    .join("");
}

function gapTable(report: Report): string {
  if (report.gaps.length === 0) return `<p id="no-gaps">${esc(headline(report).noGaps)}</p>`;
  const rows = report.gaps
    .map(
      (g) =>
        `<tr class="gap ${esc(g.severity)}"><td>${esc(g.severity)}</td><td>${esc(g.scenario)}</td><td>${esc(g.feature)}</td><td>${esc(g.reference)}</td><td>${esc(
          Object.entries(g.observed)
            .map(([k, v]) => `${k}: ${v}`)
            .join(", "),
        )}</td></tr>`,
    )
    .join("");
  return `<table class="gaps"><tr><th>severity</th><th>scenario</th><th>feature</th><th>kubernetes</th><th>CI observed</th></tr>${rows}</table>`;
}

function devfiles(report: Report): string {
  const items = report.scenarios
    .filter((sc) => sc.gitlabRejects.length + sc.adaptations.length + sc.findings.length > 0)
    .map((sc) => {
      const lines = [
        ...sc.gitlabRejects.map((m) => `GitLab rejects it: ${m}`),
        ...sc.adaptations.map((a) => `adapted ${a.pointer}: ${a.change} (${a.rule})`),
        ...sc.findings.map((f) => `finding: ${f}`),
      ];
      return `<li data-scenario="${esc(sc.name)}"><b>${esc(sc.name)}</b> <code>${esc(sc.devfile)}</code><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join("")}</ul></li>`;
    });
  return items.length === 0 ? "" : `<h2>Devfiles</h2><ul class="devfiles">${items.join("")}</ul>`;
}

function charts(report: Report): string {
  const cells = report.cells.filter((c) => c.tunnel);
  if (cells.length === 0) return "<p>No tunnel figures in this run.</p>";
  const latency = groupedBarChart(
    "Request latency through the workspace URL",
    "µs",
    cells.map((c) => ({
      label: cellLabel(c),
      values: [
        { series: "p50", value: c.tunnel!.latencyUs.p50 },
        { series: "p95", value: c.tunnel!.latencyUs.p95 },
        { series: "p99", value: c.tunnel!.latencyUs.p99 },
      ],
    })),
  );
  const throughput = groupedBarChart(
    "Bulk throughput through the workspace URL",
    "MB/s",
    cells.map((c) => ({
      label: cellLabel(c),
      values: [
        { series: "download", value: c.tunnel!.throughputMBps.download },
        { series: "upload", value: c.tunnel!.throughputMBps.upload },
      ],
    })),
  );
  return `<div id="latency-chart">${latency}</div><div id="throughput-chart">${throughput}</div>`;
}

export function renderHtml(report: Report): string {
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>wsparity ${esc(report.tier)} ${esc(report.runId)}</title><style>${STYLE}</style></head>
<body>
<h1>wsparity gap report — tier ${esc(report.tier)}</h1>
<p class="summary"><span id="parity">Parity <b>${s.parityPct}%</b></span><span id="comparable-count">${s.comparable} comparable checks</span><span id="gap-count">${s.gaps} gaps</span><span id="inconclusive-count">${s.inconclusive} inconclusive</span><span>${s.cells} cells</span><span>${esc(report.startedAt)} → ${esc(report.finishedAt)}</span></p>
${s.notComparable.length > 0 ? `<ul id="not-comparable">${s.notComparable.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
<h2>Gaps</h2>${gapTable(report)}
${devfiles(report)}
${matrixTables(report)}
<h2>Tunnel</h2>${charts(report)}
</body></html>
`;
}
