import type { Cell, FeatureResult } from "../report/model.ts";
import { cellLabel } from "../report/model.ts";
import type { PlannedCell } from "./matrix.ts";

export type ProgressMode = "human" | "quiet" | "jsonl";

export interface Progress {
  runStarted(cells: readonly PlannedCell[], tier: string, out: string): void;
  cellStarted(cell: PlannedCell, index: number, total: number): void;
  probeDone(cell: PlannedCell, result: FeatureResult): void;
  cellDone(cell: Cell, index: number, total: number): void;
  note(message: string): void;
}

const SYMBOL: Record<string, string> = {
  supported: "✓",
  unsupported: "✗",
  degraded: "~",
  "not-applicable": "-",
  error: "!",
};

/** Lines on stderr, so stdout carries only the final summary (or JSON lines in jsonl mode). */
export function createProgress(
  mode: ProgressMode,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Progress {
  let probes = 0;
  let startedAt = 0;
  const label = (c: PlannedCell) =>
    cellLabel({ scenario: c.scenario.name, path: c.path, executor: c.executor, arch: c.arch });
  const seconds = () => ((performance.now() - startedAt) / 1000).toFixed(1);
  if (mode === "jsonl") {
    const emit = (event: Record<string, unknown>) =>
      process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...event })}\n`);
    return {
      runStarted: (cells, tier, out) => emit({ event: "run-started", cells: cells.length, tier, out }),
      cellStarted: (c, index, total) => emit({ event: "cell-started", cell: label(c), index, total }),
      probeDone: (c, r) =>
        emit({ event: "probe", cell: label(c), id: r.id, status: r.status, durationMs: r.durationMs }),
      cellDone: (c, index, total) =>
        emit({
          event: "cell-done",
          cell: cellLabel(c),
          status: c.status,
          startupMs: c.startupMs,
          index,
          total,
        }),
      note: (message) => emit({ event: "note", message }),
    };
  }
  if (mode === "quiet")
    return { runStarted() {}, cellStarted() {}, probeDone() {}, cellDone() {}, note() {} };
  return {
    runStarted(cells, tier, out) {
      startedAt = performance.now();
      write(`wsparity: ${cells.length} cells on the ${tier} tier → ${out}`);
    },
    cellStarted(c, index, total) {
      write(`[${index + 1}/${total}] ${label(c)} … ${c.skip ? `skipped: ${c.skip}` : "starting"}`);
    },
    probeDone(_cell, r) {
      probes++;
      write(
        `    ${SYMBOL[r.status] ?? "?"} ${r.id} ${r.status} (${r.durationMs} ms) [${probes} probes, ${seconds()} s]`,
      );
    },
    cellDone(c, index, total) {
      const counts = new Map<string, number>();
      for (const f of c.features) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
      const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
      write(
        `[${index + 1}/${total}] ${cellLabel(c)} ${c.status}${c.startupMs !== null ? ` (start ${c.startupMs} ms)` : ""}${summary ? `: ${summary}` : ""}${c.reason ? ` — ${c.reason}` : ""}`,
      );
    },
    note: (message) => write(`wsparity: ${message}`),
  };
}
