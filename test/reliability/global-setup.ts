import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type ReliabilityRow, renderTable } from "./table.ts";

/** Gives every worker one file to append rows to, and prints them as one table when the run ends. */
export default function setup(project: TestProject): () => void {
  const folder = mkdtempSync(join(tmpdir(), "wsparity-reliability-"));
  const file = join(folder, "rows.jsonl");
  project.provide("reliabilityRowsFile", file);
  return () => {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // No test recorded a row.
    }
    rmSync(folder, { recursive: true, force: true });
    const rows = text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as ReliabilityRow)
      .sort((a, b) => a.check.localeCompare(b.check));
    const failed = rows.filter((row) => !row.ok).length;
    process.stdout.write(
      `\nReliability table (${rows.length} rows, ${failed} outside their bound)\n${renderTable(rows)}\n\n`,
    );
  };
}
