import { readFile } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import { Ajv } from "ajv";
import type { Arch, Executor, Tier, WorkspacePath } from "../report/model.ts";
import { UsageError } from "../util/errors.ts";
import { locate, parseYamlWithPositions, yamlData } from "../util/yaml-locate.ts";
import { FEATURE_IDS } from "./catalog.ts";

export interface ScenarioMatrix {
  paths?: WorkspacePath[];
  executors?: Executor[];
  arch?: Arch[];
}

export interface Scenario {
  name: string;
  description?: string;
  /** Absolute path of the devfile. */
  devfile: string;
  /** "gitlab": run the devfile with the smallest changes that make GitLab accept it (src/devfile/adapt-gitlab.ts). */
  adapt?: "gitlab";
  /** The file the scenario came from (the devfile itself for a plain devfile). */
  source: string;
  matrix: ScenarioMatrix;
  workspace: {
    variables: Record<string, string>;
    files: Record<string, string>;
  };
  /** Feature ids to probe; every catalog feature when the scenario names none. */
  probes: string[];
  bench: { latencyRequests: number; bulkMiB: number };
  timeouts: { startMs: number; probeMs: number };
}

const ARCHES: Arch[] = ["amd64", "arm64"];
const EXECUTORS: Executor[] = ["shell", "docker", "kubernetes"];
const PATHS: WorkspacePath[] = ["kubernetes", "ci"];

const schema = {
  type: "object",
  required: ["name", "devfile"],
  additionalProperties: false,
  properties: {
    name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 40 },
    description: { type: "string" },
    devfile: { type: "string", minLength: 1 },
    adapt: { enum: ["gitlab"] },
    matrix: {
      type: "object",
      additionalProperties: false,
      properties: {
        paths: { type: "array", minItems: 1, uniqueItems: true, items: { enum: PATHS } },
        executors: { type: "array", minItems: 1, uniqueItems: true, items: { enum: EXECUTORS } },
        arch: { type: "array", minItems: 1, uniqueItems: true, items: { enum: ARCHES } },
      },
    },
    workspace: {
      type: "object",
      additionalProperties: false,
      properties: {
        variables: { type: "object", additionalProperties: { type: "string" } },
        files: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    probes: { type: "array", uniqueItems: true, items: { enum: [...FEATURE_IDS] } },
    bench: {
      type: "object",
      additionalProperties: false,
      properties: {
        latencyRequests: { type: "integer", minimum: 0, maximum: 1_000_000 },
        bulkMiB: { type: "integer", minimum: 0, maximum: 65_536 },
      },
    },
    timeouts: {
      type: "object",
      additionalProperties: false,
      properties: {
        startMs: { type: "integer", minimum: 1000 },
        probeMs: { type: "integer", minimum: 100 },
      },
    },
  },
} as const;

const DEFAULTS = {
  bench: { latencyRequests: 2000, bulkMiB: 16 },
  timeouts: { startMs: 90_000, probeMs: 20_000 },
};

let validator: ReturnType<Ajv["compile"]> | undefined;

function messageFor(e: {
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  instancePath: string;
}): string {
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "scenario";
  if (e.keyword === "additionalProperties")
    return `${field}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === "enum")
    return `${field} must be one of ${(e.params.allowedValues as unknown[]).join(", ")}`;
  if (e.keyword === "pattern") return `${field} must be lower-case letters, digits and dashes (a DNS label)`;
  return `${field} ${e.message ?? "is invalid"}`;
}

/** A scenario file: schema-checked, with every problem naming file:line:column. */
export function parseScenario(text: string, file: string): Scenario {
  const parsed = parseYamlWithPositions(text);
  const loaded = yamlData(parsed, file);
  if ("error" in loaded) throw new UsageError(loaded.error);
  const data = loaded.data as Record<string, unknown>;
  validator ??= new Ajv({ allErrors: true }).compile(schema);
  if (!validator(data)) {
    const problems = (validator.errors ?? []).map((e) => {
      const at =
        e.keyword === "additionalProperties"
          ? `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)}`
          : e.instancePath;
      const { line, column } = locate(parsed, at);
      return `${file}:${line}:${column}: ${messageFor(e as never)}`;
    });
    throw new UsageError(`invalid scenario:\n  ${problems.join("\n  ")}`);
  }
  const s = data as {
    name: string;
    description?: string;
    devfile: string;
    adapt?: "gitlab";
    matrix?: ScenarioMatrix;
    workspace?: { variables?: Record<string, string>; files?: Record<string, string> };
    probes?: string[];
    bench?: Partial<Scenario["bench"]>;
    timeouts?: Partial<Scenario["timeouts"]>;
  };
  return {
    name: s.name,
    description: s.description,
    devfile: resolve(dirname(file), s.devfile),
    ...(s.adapt ? { adapt: s.adapt } : {}),
    source: file,
    matrix: s.matrix ?? {},
    workspace: { variables: s.workspace?.variables ?? {}, files: s.workspace?.files ?? {} },
    probes: s.probes ?? [...FEATURE_IDS],
    bench: { ...DEFAULTS.bench, ...s.bench },
    timeouts: { ...DEFAULTS.timeouts, ...s.timeouts },
  };
}

/** A devfile given directly: the default scenario settings around it. */
export function scenarioForDevfile(file: string): Scenario {
  const stem = basename(file, extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return {
    name: stem || "devfile",
    devfile: resolve(file),
    source: resolve(file),
    matrix: {},
    workspace: { variables: {}, files: {} },
    probes: [...FEATURE_IDS],
    bench: { ...DEFAULTS.bench },
    timeouts: { ...DEFAULTS.timeouts },
  };
}

/** A devfile has `schemaVersion` at the top; a scenario has `devfile`. Either may be passed to `run`. */
export async function loadScenarioOrDevfile(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return /^schemaVersion\s*:/m.test(text) ? scenarioForDevfile(file) : parseScenario(text, file);
}

export interface TierDefaults {
  paths: WorkspacePath[];
  executors: Executor[];
  arch: Arch[];
}

export const TIER_DEFAULTS: Record<Tier, TierDefaults> = {
  sim: { paths: ["kubernetes", "ci"], executors: ["shell", "kubernetes"], arch: ["amd64"] },
  docker: {
    paths: ["kubernetes", "ci"],
    executors: ["shell", "docker", "kubernetes"],
    arch: ["amd64", "arm64"],
  },
  live: { paths: ["kubernetes", "ci"], executors: ["docker", "kubernetes"], arch: ["amd64"] },
};
