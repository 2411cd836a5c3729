import { BAR_CHART_STYLE, groupedBarChart } from "./bar-chart.ts";
import { headline } from "./headline.ts";
import { columnLabel, scenarioMatrices } from "./matrix.ts";
import { cellLabel, type Report } from "./model.ts";
import { formatMBps, formatMicros } from "./units.ts";
import { escapeXml as esc } from "./xml.ts";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px clamp(8px,3vw,24px);color:#222}
h1{font-size:20px;overflow-wrap:anywhere}h2{font-size:16px;margin-top:28px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.status{position:relative;cursor:help;font-weight:600}
td.supported{background:#d8f5d0}td.degraded{background:#fff1c2}td.unsupported{background:#fbd3d0}
td.error{background:#f4b6ff}td.inconclusive{background:#dde7f5}td.not-applicable{background:#eee;color:#777}
td.status:hover::after{content:attr(data-evidence);position:absolute;left:0;top:100%;z-index:2;
  width:360px;white-space:pre-wrap;font-weight:400;background:#222;color:#fff;padding:6px;border-radius:4px}
.summary{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0;padding:0;list-style:none}
.summary li{border:1px solid #ccc;border-radius:4px;padding:4px 10px}.summary b{font-size:18px;margin-right:4px}
.run{color:#555;font-size:12px;overflow-wrap:anywhere}
${BAR_CHART_STYLE}`;

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
      return `<h2>${esc(m.scenario)}</h2><div class="scroll"><table class="matrix" data-scenario="${esc(m.scenario)}">${head}${rows}</table></div>`;
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
  return `<div class="scroll"><table class="gaps"><tr><th>severity</th><th>scenario</th><th>feature</th><th>kubernetes</th><th>CI observed</th></tr>${rows}</table></div>`;
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
    "latency-chart",
    "Request latency through the workspace URL",
    cells.map((c) => ({
      label: cellLabel(c),
      values: [
        { series: "p50", value: c.tunnel!.latencyUs.p50 },
        { series: "p95", value: c.tunnel!.latencyUs.p95 },
        { series: "p99", value: c.tunnel!.latencyUs.p99 },
      ],
    })),
    formatMicros,
  );
  const throughput = groupedBarChart(
    "throughput-chart",
    "Bulk throughput through the workspace URL",
    cells.map((c) => ({
      label: cellLabel(c),
      values: [
        { series: "download", value: c.tunnel!.throughputMBps.download },
        { series: "upload", value: c.tunnel!.throughputMBps.upload },
      ],
    })),
    formatMBps,
  );
  return `${latency}${throughput}`;
}

export function renderHtml(report: Report): string {
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>wsparity ${esc(report.tier)} ${esc(report.runId)}</title><style>${STYLE}</style></head>
<body>
<h1>wsparity gap report — tier ${esc(report.tier)}</h1>
<ul class="summary"><li id="comparable-count"><b>${s.comparable}</b> comparable checks</li><li id="gap-count"><b>${s.gaps}</b> gaps</li><li id="inconclusive-count"><b>${s.inconclusive}</b> inconclusive</li><li id="parity"><b>${s.parityPct}%</b> parity</li><li><b>${s.cells}</b> cells</li></ul>
<p class="run">${esc(report.runId)} · ${esc(report.startedAt)} → ${esc(report.finishedAt)}${report.rollout ? ` · rollout flag ${esc(report.rollout.flag)}: ${esc(String(report.rollout.before))} → ${esc(String(report.rollout.after))} (stage ${esc(report.rollout.stage ?? "none")})` : ""}</p>
${s.notComparable.length > 0 ? `<ul id="not-comparable">${s.notComparable.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
<h2>Gaps</h2>${gapTable(report)}
${devfiles(report)}
${matrixTables(report)}
<h2>Tunnel</h2>${charts(report)}
</body></html>
`;
}
