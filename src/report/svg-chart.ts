import { escapeXml } from "./xml.ts";

export interface BarGroup {
  label: string;
  values: { series: string; value: number }[];
}

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"];

/** A grouped bar chart as inline SVG: no script, no fetches, readable without JavaScript. */
export function groupedBarChart(title: string, unit: string, groups: readonly BarGroup[]): string {
  const series = [...new Set(groups.flatMap((g) => g.values.map((v) => v.series)))];
  const max = Math.max(1, ...groups.flatMap((g) => g.values.map((v) => v.value)));
  const barW = 18;
  const gap = 14;
  const groupW = series.length * barW + gap;
  const left = 60;
  const top = 30;
  const plotH = 180;
  const width = Math.max(360, left + groups.length * groupW + 20);
  const height = top + plotH + 70;
  const parts: string[] = [
    `<svg class="chart" role="img" aria-label="${escapeXml(title)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<text x="${left}" y="18" class="chart-title">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${width - 10}" y2="${top + plotH}" stroke="#888"/>`,
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end" class="axis">${max.toPrecision(3)} ${escapeXml(unit)}</text>`,
    `<text x="${left - 6}" y="${top + plotH}" text-anchor="end" class="axis">0</text>`,
  ];
  groups.forEach((group, gi) => {
    const x0 = left + gi * groupW + gap / 2;
    group.values.forEach((v) => {
      const si = series.indexOf(v.series);
      const h = (v.value / max) * plotH;
      parts.push(
        `<rect class="bar" x="${x0 + si * barW}" y="${(top + plotH - h).toFixed(1)}" width="${barW - 2}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${group.label} ${v.series}: ${v.value.toFixed(1)} ${unit}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${x0 + (series.length * barW) / 2}" y="${top + plotH + 14}" text-anchor="end" transform="rotate(-30 ${x0 + (series.length * barW) / 2} ${top + plotH + 14})" class="axis">${escapeXml(group.label)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const x = width - 10 - (series.length - si) * 80;
    parts.push(
      `<rect x="${x}" y="6" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/><text x="${x + 14}" y="15" class="axis">${escapeXml(s)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}
