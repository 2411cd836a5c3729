import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";

/** The devfile schema versions whose official JSON schema ships in schemas/devfile/. */
export const SCHEMA_VERSIONS = ["2.0.0", "2.1.0", "2.2.0", "2.2.1", "2.2.2", "2.3.0"] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

const SCHEMA_DIR = new URL("../../schemas/devfile/", import.meta.url);
const compiled = new Map<SchemaVersion, ValidateFunction>();

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * The schema to validate a declared schemaVersion against: the exact version when shipped, else the newest
 * shipped patch of the same major.minor (2.2.3 → 2.2.2). Undefined when no schema of that line exists.
 */
export function schemaVersionFor(declared: string): SchemaVersion | undefined {
  const m = SEMVER.exec(declared);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const sameLine = SCHEMA_VERSIONS.filter((v) => {
    const [a, b] = v.split(".").map(Number);
    return a === major && b === minor;
  });
  if (sameLine.length === 0) return undefined;
  const notNewer = sameLine.filter((v) => Number(v.split(".")[2]) <= patch);
  return (notNewer.at(-1) ?? sameLine[0]) as SchemaVersion;
}

/** The compiled validator for a schema version; each schema is compiled once per process. */
export function schemaValidator(version: SchemaVersion): ValidateFunction {
  let validate = compiled.get(version);
  if (!validate) {
    const schema = JSON.parse(readFileSync(new URL(`devfile-${version}.json`, SCHEMA_DIR), "utf8"));
    // The devfile schemas use Go-flavoured patterns and vendor keywords: strict off, no unicode flag.
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false, verbose: true });
    validate = ajv.compile(schema);
    compiled.set(version, validate);
  }
  return validate;
}

/** Compiles every shipped schema now (benchmarks and long-running servers pay the cost up front). */
export function precompileSchemas(): void {
  for (const version of SCHEMA_VERSIONS) schemaValidator(version);
}
