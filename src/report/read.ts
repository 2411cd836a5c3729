import { readFile } from "node:fs/promises";
import { UsageError } from "../util/errors.ts";
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
  return data as Report;
}
