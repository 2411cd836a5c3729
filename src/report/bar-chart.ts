// Grouped horizontal bar charts in plain HTML and CSS: labels and values are text that wraps with the
// page, so nothing is cut off or drawn over at a phone's width; no script, no fetches.
import { niceMax } from "./units.ts";
import { escapeXml as esc } from "./xml.ts";

export interface BarGroup {
  label: string;
  values: { series: string; value: number }[];
}

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"];

export const BAR_CHART_STYLE = `
.chart{margin:12px 0 24px;max-width:760px}
.chart-title{font-weight:600;margin:0 0 4px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0 0 8px;padding:0;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.bar-row,.chart-scale{display:grid;grid-template-columns:6em minmax(0,1fr) 5.5em;gap:6px;align-items:center;font-size:12px}
.group-label{font-size:12px;font-weight:600;margin:8px 0 2px;overflow-wrap:anywhere}
.track{position:relative;height:12px;background:repeating-linear-gradient(90deg,#e6e6e6 0 1px,transparent 1px 25%)}
.bar{display:block;height:100%;min-width:1px}
.value{font-variant-numeric:tabular-nums;white-space:nowrap}
.chart-scale .ticks{position:relative;height:1.2em;color:#555}
.chart-scale .ticks span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.chart-scale .ticks span:first-child{transform:none}.chart-scale .ticks span:last-child{transform:translateX(-100%)}
`;

/**
 * One chart: its title, a legend on a line of its own, a scale from 0 to a round maximum, and per group
 * its label above one bar per series with the value written beside it in `format`'s units.
 */
export function groupedBarChart(
  id: string,
  title: string,
  groups: readonly BarGroup[],
  format: (value: number) => string,
): string {
  const series = [...new Set(groups.flatMap((g) => g.values.map((v) => v.series)))];
  const colour = (s: string) => PALETTE[series.indexOf(s) % PALETTE.length]!;
  const max = niceMax(Math.max(0, ...groups.flatMap((g) => g.values.map((v) => v.value))));
  const legend = series.map((s) => `<li><i style="background:${colour(s)}"></i>${esc(s)}</li>`).join("");
  const ticks = [0, 0.5, 1]
    .map((f) => `<span style="left:${f * 100}%">${esc(format(f * max))}</span>`)
    .join("");
  const rows = groups
    .map((g) => {
      const bars = g.values
        .map((v) => {
          const pct = Math.min(100, (v.value / max) * 100);
          const text = format(v.value);
          return `<div class="bar-row"><span class="series">${esc(v.series)}</span><span class="track"><span class="bar" style="width:${pct.toFixed(2)}%;background:${colour(v.series)}" title="${esc(`${g.label} ${v.series}: ${text}`)}"></span></span><span class="value">${esc(text)}</span></div>`;
        })
        .join("");
      return `<div class="group"><div class="group-label">${esc(g.label)}</div>${bars}</div>`;
    })
    .join("");
  return `<figure class="chart" id="${esc(id)}" role="img" aria-label="${esc(title)}"><figcaption class="chart-title">${esc(title)}</figcaption><ul class="legend">${legend}</ul><div class="chart-scale"><span></span><span class="ticks">${ticks}</span><span></span></div>${rows}</figure>`;
}
