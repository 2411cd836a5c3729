// GitLab's own CI YAML schema (schemas/gitlab-ci.json, MIT, copied from gitlab-org/gitlab) as the oracle
// every generated .gitlab-ci.yml must pass.

import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const SCHEMA_PATH = new URL("../../schemas/gitlab-ci.json", import.meta.url);

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
  }
  return compiled;
}

export interface CiSchemaResult {
  valid: boolean;
  errors: string[];
}

/** Validates a parsed .gitlab-ci.yml against GitLab's CI schema. */
export function validateCiConfig(config: unknown): CiSchemaResult {
  const validate = validator();
  const valid = validate(config) as boolean;
  return { valid, errors: (validate.errors ?? []).map(describe) };
}

function describe(error: ErrorObject): string {
  return `${error.instancePath || "/"} ${error.message ?? "is invalid"}${error.params ? ` ${JSON.stringify(error.params)}` : ""}`;
}
