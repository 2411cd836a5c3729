import type { DevfileError } from "./errors.ts";
import { explainSchemaErrors, kindOf } from "./schema-errors.ts";
import { SCHEMA_VERSIONS, type SchemaVersion, schemaValidator, schemaVersionFor } from "./schemas.ts";
import { type DevfileSource, errorAt } from "./source.ts";

export type SchemaCheck = { ok: true; version: SchemaVersion } | { ok: false; errors: DevfileError[] };

const SUPPORTED = `${SCHEMA_VERSIONS[0]}–${SCHEMA_VERSIONS.at(-1)}`;

/** Picks the official schema by schemaVersion and reports every violation of it, in plain words. */
export function validateAgainstSchema(source: DevfileSource): SchemaCheck {
  const value = source.value;
  if (value === null || value === undefined) {
    return {
      ok: false,
      errors: [
        errorAt(
          source,
          "",
          "the file is empty: a devfile needs at least 'schemaVersion: 2.2.0' and components",
          "schema",
        ),
      ],
    };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return {
      ok: false,
      errors: [
        errorAt(
          source,
          "",
          `a devfile must be a map of fields (schemaVersion, components, ...), not ${kindOf(value)}`,
          "schema",
        ),
      ],
    };
  }
  const declared = (value as Record<string, unknown>).schemaVersion;
  if (declared === undefined) {
    return {
      ok: false,
      errors: [
        errorAt(
          source,
          "",
          "the devfile is missing the required field 'schemaVersion' (e.g. schemaVersion: 2.2.0)",
          "schema",
        ),
      ],
    };
  }
  if (typeof declared !== "string") {
    return {
      ok: false,
      errors: [
        errorAt(
          source,
          "/schemaVersion",
          `schemaVersion must be a string such as 2.2.0, not ${kindOf(declared)} (quote it: schemaVersion: "2.2.0")`,
          "schema",
        ),
      ],
    };
  }
  const version = schemaVersionFor(declared);
  if (!version) {
    return {
      ok: false,
      errors: [
        errorAt(
          source,
          "/schemaVersion",
          `schemaVersion ${JSON.stringify(declared)} is not a devfile version this tool has a schema for (${SUPPORTED}); use one of ${SCHEMA_VERSIONS.join(", ")}`,
          "schema",
        ),
      ],
    };
  }
  const validate = schemaValidator(version);
  if (validate(value)) return { ok: true, version };
  const problems = explainSchemaErrors(validate.errors ?? []);
  const errors = problems.map((p) => errorAt(source, p.pointer, p.message, "schema"));
  return { ok: false, errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) };
}
