// The live tier's docker-compose.yml: checked against the Compose Specification's schema (schemas/compose/), and
// read for what `live up` plans: the services of a profile, their images, health checks and published ports.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { type DevfileError, formatError } from "../devfile/errors.ts";
import { explainSchemaErrors } from "../devfile/schema-errors.ts";
import { errorAt, parseSource } from "../devfile/source.ts";

export const PROJECT_ROOT = resolve(new URL("../..", import.meta.url).pathname);
export const COMPOSE_FILE = resolve(PROJECT_ROOT, "docker-compose.yml");
const SCHEMA_PATH = resolve(PROJECT_ROOT, "schemas/compose/compose-spec.json");

export interface ComposeService {
  name: string;
  profiles: string[];
  image: string;
  healthcheck: boolean;
  /** Host ports published on the loopback interface, as "127.0.0.1:HOST:CONTAINER". */
  ports: string[];
  oneShot: boolean;
}

export interface ComposeFile {
  file: string;
  services: ComposeService[];
}

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
let compiled: ValidateFunction | undefined;

function schema(): ValidateFunction {
  if (!compiled) {
    // The spec names its meta-schema with https://, which Ajv does not ship; the schema itself is draft-07.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
  }
  return compiled;
}

/** Problems as `file:line:column: message`; empty when the file is a valid Compose file. */
export function checkComposeFile(file = COMPOSE_FILE): string[] {
  return validate(file).errors.map(formatError);
}

function validate(file: string): { errors: DevfileError[]; value?: Record<string, unknown> } {
  const parsed = parseSource(readFileSync(file, "utf8"), file);
  if (!parsed.ok) return { errors: parsed.errors };
  const check = schema();
  if (check(parsed.source.value))
    return { errors: [], value: parsed.source.value as Record<string, unknown> };
  return {
    errors: explainSchemaErrors(check.errors ?? []).map((p) =>
      errorAt(parsed.source, p.pointer, p.message, "schema"),
    ),
  };
}

/** The file's services; throws with every schema problem when the file is not valid. */
export function readComposeFile(file = COMPOSE_FILE): ComposeFile {
  const { errors, value } = validate(file);
  if (!value) throw new Error(`${file} is not a valid Compose file:\n${errors.map(formatError).join("\n")}`);
  const services = (value.services ?? {}) as Record<string, Record<string, unknown>>;
  return {
    file,
    services: Object.entries(services).map(([name, s]) => ({
      name,
      profiles: (s.profiles as string[] | undefined) ?? [],
      image: String(s.image ?? ""),
      healthcheck: s.healthcheck !== undefined,
      ports: ((s.ports as unknown[] | undefined) ?? []).map(String),
      oneShot: s.restart === "no",
    })),
  };
}

export function servicesOf(compose: ComposeFile, profile: string): ComposeService[] {
  return compose.services.filter((s) => s.profiles.includes(profile));
}
