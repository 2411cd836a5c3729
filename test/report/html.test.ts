import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.ts";
import { CHROMIUM, launchChromium } from "../support/chromium.ts";
import { missingTool } from "../support/tools.ts";
import { sampleReport } from "./fixtures.ts";

describe("report.html", () => {
  it("is one self-contained file: no external URL anywhere", () => {
    const html = renderHtml(sampleReport());
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
  });

  it("escapes evidence so a probe's output cannot inject markup", () => {
    const r = sampleReport();
    r.cells[0]!.features[0]!.evidence = `"><script>alert(1)</script>`;
    const html = renderHtml(r);
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("renders the matrix and both charts in headless Chromium with no console errors and no requests", async (ctx) => {
    const noChromium = missingTool(CHROMIUM, "apt-get install -y chromium (scripts/install-test-tools.sh)");
    if (noChromium) ctx.skip(noChromium);
    const dir = await mkdtemp(join(tmpdir(), "wsparity-html-"));
    const file = join(dir, "report.html");
    await writeFile(file, renderHtml(sampleReport()));
    const { browser, close } = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("request", (r) => {
        if (!r.url().startsWith("file://")) requests.push(r.url());
      });
      await page.goto(`file://${file}`);
      expect(await page.locator("table.matrix tr").count()).toBe(5);
      const shellImage = page.locator('table.matrix tr:has(th:text-is("container.image")) td').nth(1);
      expect(await shellImage.getAttribute("class")).toBe("status unsupported");
      expect(await shellImage.getAttribute("data-evidence")).toBe("observed container.image unsupported");
      expect(
        await page.evaluate(
          () => getComputedStyle(document.querySelector("td.unsupported")!).backgroundColor,
        ),
      ).toBe("rgb(251, 211, 208)");
      await shellImage.hover();
      expect(
        await page.evaluate(
          () => getComputedStyle(document.querySelector("td.unsupported")!, "::after").content,
        ),
      ).toContain("observed container.image unsupported");
      const latencyBars = page.locator("#latency-chart .bar");
      expect(await latencyBars.count()).toBe(6);
      const box = await latencyBars.first().boundingBox();
      expect(box!.height).toBeGreaterThan(10);
      expect(await page.locator("#throughput-chart .bar").count()).toBe(4);
      expect(await page.locator("#gap-count").textContent()).toBe("2 gaps");
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
