import { readFile } from "node:fs/promises";
import { UsageError } from "../util/errors.ts";
import { summarize } from "./derive.ts";
import type { Report } from "./model.ts";
import { reportSchemaErrors } from "./validate.ts";

export async function readReport(file: string): Promise<Report> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read report ${file}: ${(err as Error).message}`);
  }
  const errors = reportSchemaErrors(data);
  if (errors.length > 0) {
    throw new UsageError(
      `${file} is not a wsparity report (schema src/report/report.schema.json):\n  ${errors.slice(0, 10).join("\n  ")}`,
    );
  }
  return upgraded(data as Report);
}

/** A 1.0.x report has no scenarios or comparability counts: they are derived from its cells as 1.1 does. */
function upgraded(report: Report): Report {
  if (!report.schemaVersion.startsWith("1.0.")) return report;
  const scenarios = report.scenarios ?? [];
  return { ...report, scenarios, summary: summarize(report.cells, report.gaps, scenarios) };
}
