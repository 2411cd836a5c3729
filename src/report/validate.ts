import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { Report } from "./model.ts";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const schema = JSON.parse(readFileSync(new URL("./report.schema.json", import.meta.url), "utf8"));

let validator: ReturnType<Ajv["compile"]> | undefined;

function compiled() {
  if (!validator) {
    // rollout.desired|before|after are a boolean or a percentage: union types are deliberate.
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    validator = ajv.compile(schema);
  }
  return validator;
}

/** Problems with a report against the shipped schema, as `pointer message` lines; empty when valid. */
export function reportSchemaErrors(report: unknown): string[] {
  const validate = compiled();
  if (validate(report)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

export function assertValidReport(report: unknown, source = "report"): asserts report is Report {
  const errors = reportSchemaErrors(report);
  if (errors.length > 0)
    throw new Error(`${source} does not match the report schema:\n  ${errors.join("\n  ")}`);
}
