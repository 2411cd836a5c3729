import { computeGaps, summarize } from "./derive.ts";
import { type Cell, REPORT_SCHEMA_VERSION, type Report, type ScenarioSummary, type Tier } from "./model.ts";

export interface ReportInput {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  tier: Tier;
  environment: Record<string, unknown>;
  cells: Cell[];
  scenarios?: ScenarioSummary[];
}

export function buildReport(input: ReportInput): Report {
  const gaps = computeGaps(input.cells);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    tier: input.tier,
    environment: input.environment,
    cells: input.cells,
    gaps,
    scenarios: input.scenarios ?? [],
    summary: summarize(input.cells, gaps, input.scenarios ?? []),
  };
}
