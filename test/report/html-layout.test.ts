import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.ts";
import type { Report } from "../../src/report/model.ts";
import { formatMBps, formatMicros, niceMax } from "../../src/report/units.ts";
import { CHROMIUM, launchChromium } from "../support/chromium.ts";
import { missingTool } from "../support/tools.ts";
import { cell, report, tunnel } from "./fixtures.ts";

describe("units", () => {
  it("scales figures to µs, ms, s and KB/s, MB/s, GB/s with three significant digits", () => {
    expect([0, 7.25, 450, 999.4, 1000, 1250, 90_000, 2_500_000].map(formatMicros)).toEqual([
      "0 µs",
      "7.25 µs",
      "450 µs",
      "999 µs",
      "1 ms",
      "1.25 ms",
      "90 ms",
      "2.5 s",
    ]);
    expect([0.25, 12.345, 850, 1200].map(formatMBps)).toEqual([
      "250 KB/s",
      "12.3 MB/s",
      "850 MB/s",
      "1.2 GB/s",
    ]);
    expect([0, 3, 90_000, 120_001, 0.7].map(niceMax)).toEqual([1, 5, 100_000, 200_000, 1]);
  });
});

/** Long labels, tiny and huge figures: what used to print as 90e+3 µs and run off the chart. */
function busyReport(): Report {
  const features = { "container.image": "supported", "endpoint.http": "supported" } as const;
  const cells = ["polyglot-nodejs-mongodb-sidecars", "minimal"].flatMap((scenario) => [
    cell("kubernetes", null, "amd64", features, { scenario }),
    cell(
      "ci",
      "shell",
      "amd64",
      { ...features, "container.image": "unsupported" },
      {
        scenario,
        tunnel: tunnel(90_000, 0.8),
      },
    ),
    cell("ci", "docker", "arm64", features, { scenario, tunnel: tunnel(450, 1200) }),
    cell("ci", "kubernetes", "arm64", features, { scenario, tunnel: tunnel(12_500, 85.5) }),
  ]);
  return report(cells);
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width - 0.5 &&
  b.x < a.x + a.width - 0.5 &&
  a.y < b.y + b.height - 0.5 &&
  b.y < a.y + a.height - 0.5;

const noChromium = missingTool(CHROMIUM, "apt-get install -y chromium (scripts/install-test-tools.sh)");

describe("report.html layout in headless Chromium", () => {
  let dir: string;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  // WSPARITY_SCREENSHOTS=DIR keeps the screenshots for a person to look at.
  const shots = process.env.WSPARITY_SCREENSHOTS;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsparity-html-layout-"));
    await writeFile(join(dir, "report.html"), renderHtml(busyReport()));
    if (shots) await mkdir(shots, { recursive: true });
    // One browser for both widths: starting Chromium costs more than rendering the page.
    if (!noChromium) chromium = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await chromium?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.for([
    ["laptop", 1366, 768],
    ["phone", 390, 844],
  ] as const)(
    "reads at %s width (%i px): headline first, no text over other text, nothing cut off or off the page",
    { timeout: 90_000 },
    async ([name, width, height], ctx) => {
      if (noChromium) ctx.skip(noChromium);
      const page = await chromium!.browser.newPage({ viewport: { width, height } });
      try {
        await page.goto(`file://${join(dir, "report.html")}`);
        if (shots) await page.screenshot({ path: join(shots, `report-${name}.png`), fullPage: true });

        // The page never scrolls sideways; wide tables scroll inside their own box.
        const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(pageWidth).toBeLessThanOrEqual(width);

        // The headline counts come first, above the gap table, inside the first screen.
        const gapsHeading = await page.locator("h2", { hasText: "Gaps" }).boundingBox();
        for (const id of ["#comparable-count", "#gap-count", "#inconclusive-count"]) {
          const box = (await page.locator(id).boundingBox())!;
          expect(box.y + box.height).toBeLessThanOrEqual(Math.min(gapsHeading!.y, height));
        }

        for (const chart of ["#latency-chart", "#throughput-chart"]) {
          // Every piece of text in the chart, measured in one round trip.
          const { figure, boxes } = await page.evaluate((selector) => {
            const root = document.querySelector(selector)!;
            const rect = (e: Element) => {
              const r = e.getBoundingClientRect();
              return { x: r.x, y: r.y, width: r.width, height: r.height };
            };
            const parts = root.querySelectorAll(
              ".chart-title, .legend li, .ticks span, .group-label, .series, .value",
            );
            return {
              figure: rect(root),
              boxes: [...parts].map((e) => ({
                text: e.textContent ?? "",
                box: rect(e),
                clipped: e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== "inline",
              })),
            };
          }, chart);
          expect(boxes.length).toBeGreaterThan(20);
          for (const t of boxes) {
            expect(t.clipped, `"${t.text}" is cut off in ${chart} at ${width} px`).toBe(false);
            expect(t.box.x, `"${t.text}" starts left of the page`).toBeGreaterThanOrEqual(0);
            expect(t.box.x + t.box.width, `"${t.text}" runs off ${chart} at ${width} px`).toBeLessThanOrEqual(
              figure.x + figure.width + 1,
            );
          }
          for (let i = 0; i < boxes.length; i++)
            for (let j = i + 1; j < boxes.length; j++)
              expect(
                overlaps(boxes[i]!.box, boxes[j]!.box),
                `"${boxes[i]!.text}" overlaps "${boxes[j]!.text}" in ${chart} at ${width} px`,
              ).toBe(false);
          // The title sits above the legend.
          const title = boxes.find((b) => b.text.includes("through the workspace URL"))!.box;
          const legend = boxes.filter((b) => /^(p\d\d|download|upload)$/.test(b.text)).map((b) => b.box.y);
          expect(title.y + title.height).toBeLessThanOrEqual(Math.min(...legend));
        }
        const values = await page.locator(".chart .value").allTextContents();
        expect(values).toContain("90 ms");
        expect(values).toContain("1.2 GB/s");
        for (const v of values) expect(v).toMatch(/^\d+(\.\d+)? (µs|ms|s|KB\/s|MB\/s|GB\/s)$/);
      } finally {
        await page.close();
      }
    },
  );
});
