import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderHtml } from "./html.ts";
import { renderJunit } from "./junit.ts";
import { renderMarkdown } from "./markdown.ts";
import type { Report } from "./model.ts";
import { assertValidReport } from "./validate.ts";

export const REPORT_FILES = ["report.json", "report.md", "report.html", "junit.xml"] as const;

async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/** Validates the report against the shipped schema, then writes the four formats; each file appears whole or not at all. */
export async function writeReports(dir: string, report: Report): Promise<string[]> {
  assertValidReport(report);
  await mkdir(dir, { recursive: true });
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    "report.json": `${JSON.stringify(report, null, 2)}\n`,
    "report.md": renderMarkdown(report),
    "report.html": renderHtml(report),
    "junit.xml": renderJunit(report),
  };
  const paths: string[] = [];
  for (const name of REPORT_FILES) {
    const path = join(dir, name);
    await writeAtomically(path, contents[name]);
    paths.push(path);
  }
  return paths;
}
