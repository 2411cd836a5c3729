import { appendFileSync } from "node:fs";
import { inject } from "vitest";

/**
 * One line of the reliability table: an attack, fault or load, what it did, the figure it produced, and
 * whether that figure is within its bound. The test that records a row also asserts on the figure, so CI
 * fails when a bound breaks; the table is what a reader sees.
 */
export interface ReliabilityRow {
  /** The attack, fault or load, e.g. "fuzz: request lines at the user listener". */
  check: string;
  /** What it did, e.g. "2,000 generated request lines over raw TCP". */
  did: string;
  /** The figure, e.g. "0 crashes", "RSS 61 → 64 MiB", "all back in 1.9 s". */
  figure: string;
  ok: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    reliabilityRowsFile: string;
  }
}

/** Adds a row to the table printed at the end of `npm run test:reliability` (any worker, any file). */
export function recordRow(row: ReliabilityRow): void {
  appendFileSync(inject("reliabilityRowsFile"), `${JSON.stringify(row)}\n`);
}

export function renderTable(rows: readonly ReliabilityRow[]): string {
  const header: ReliabilityRow = { check: "check", did: "what it did", figure: "figure", ok: true };
  const all = [header, ...rows];
  const width = (pick: (row: ReliabilityRow) => string) => Math.max(...all.map((row) => pick(row).length));
  const widths = [width((r) => r.check), width((r) => r.did), width((r) => r.figure)];
  const line = (row: ReliabilityRow, verdict: string) =>
    [row.check.padEnd(widths[0]!), row.did.padEnd(widths[1]!), row.figure.padEnd(widths[2]!), verdict].join(
      " │ ",
    );
  const rule = `${widths.map((w) => "─".repeat(w)).join("─┼─")}─┼───────`;
  return [line(header, "verdict"), rule, ...rows.map((row) => line(row, row.ok ? "ok" : "FAILED"))].join(
    "\n",
  );
}
