import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderJunit } from "../../src/report/junit.ts";
import { renderMarkdown } from "../../src/report/markdown.ts";
import { writeReports } from "../../src/report/write.ts";
import { missingTool } from "../support/tools.ts";
import { cell, report, sampleReport } from "./fixtures.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("markdown", () => {
  it("shows the gap table, the matrix per scenario and the tunnel figures", () => {
    const md = renderMarkdown(sampleReport());
    expect(md).toContain(
      "**Parity 66.67% (6 checks the reference supports) · 6 comparable checks · 2 gaps · 0 inconclusive**",
    );
    expect(md).toContain("| critical | demo | container.image | supported | shell/amd64: unsupported |");
    expect(md).toMatch(/\| container\.image \| ✅ supported \| ❌ unsupported \| ✅ supported \|/);
    expect(md).toContain("| demo ci shell/amd64 | 200 | 400 | 600 | 4.00 | 600.0 | 600.0 | 0.60 |");
  });

  it("escapes table-breaking characters in evidence and reasons", () => {
    const md = renderMarkdown(
      report([cell("kubernetes", null, "amd64", {}, { status: "error", reason: "pod | crashed\nagain" })]),
    );
    expect(md).toContain("pod \\| crashed again");
  });
});

describe("junit.xml", () => {
  it("fails exactly the gaps, errors probe errors, skips not-applicable", () => {
    const xml = renderJunit(
      report([
        cell("kubernetes", null, "amd64", {
          a: "supported",
          b: "supported",
          c: "not-applicable",
          d: "unsupported",
        }),
        cell("ci", "shell", "amd64", { a: "unsupported", b: "error", c: "not-applicable", d: "unsupported" }),
      ]),
    );
    expect(xml).toMatch(
      /<testsuites name="wsparity sim run-1" tests="8" failures="2" errors="1" skipped="2"/,
    );
    expect(xml).toContain(
      'name="a" time="0.005"><failure message="unsupported here, supported on Kubernetes"',
    );
    expect(xml).toContain('name="d" time="0.005"><failure message="unsupported on the reference path"');
  });

  it("validates against the JUnit schema GitLab reads, also with hostile text", async (ctx) => {
    const noXmllint = missingTool(
      "xmllint",
      "apt-get install -y libxml2-utils (scripts/install-test-tools.sh)",
    );
    if (noXmllint) ctx.skip(noXmllint);
    const dir = await mkdtemp(join(tmpdir(), "wsparity-junit-"));
    dirs.push(dir);
    const hostile = report([
      cell("kubernetes", null, "amd64", { "endpoint.http": "supported" }),
      cell(
        "ci",
        "docker",
        "arm64",
        { "endpoint.http": "unsupported" },
        { status: "failed", reason: "<oops> & \u0001 \"'" },
      ),
    ]);
    hostile.cells[1]!.features[0]!.evidence = "]]> <script> \u0000 \ud800 ✓";
    for (const [name, r] of [
      ["sample.xml", sampleReport()],
      ["hostile.xml", hostile],
    ] as const) {
      const file = join(dir, name);
      await import("node:fs/promises").then((fs) => fs.writeFile(file, renderJunit(r)));
      const lint = spawnSync("xmllint", ["--noout", "--schema", "test/report/junit.xsd", file], {
        encoding: "utf8",
      });
      expect(lint.stderr).toContain("validates");
      expect(lint.status).toBe(0);
    }
  });
});

describe("writeReports", () => {
  it("writes the four files, each complete, and no temporary files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wsparity-report-"));
    dirs.push(dir);
    await writeReports(dir, sampleReport());
    expect((await readdir(dir)).sort()).toEqual(["junit.xml", "report.html", "report.json", "report.md"]);
    expect(JSON.parse(await readFile(join(dir, "report.json"), "utf8")).summary.parityPct).toBe(66.67);
  });

  it("refuses to write a report that breaks the schema", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wsparity-report-"));
    dirs.push(dir);
    const bad = sampleReport();
    (bad as { tier: string }).tier = "moon";
    await expect(writeReports(dir, bad)).rejects.toThrow(/\/tier must be equal to one of the allowed values/);
    expect(await readdir(dir)).toEqual([]);
  });
});
