import { readFile } from "node:fs/promises";
import { Ajv, type ValidateFunction } from "ajv";
import { UsageError } from "../util/errors.ts";
import { locate, parseYamlWithPositions, yamlData } from "../util/yaml-locate.ts";
import { FEATURE_STATUSES, type FeatureStatus, type FlagValue } from "./model.ts";

export type Comparator = "<" | "<=" | ">" | ">=" | "==" | "!=";

export interface Threshold {
  /** As written, e.g. "< 2000". */
  source: string;
  op: Comparator;
  value: number;
}

export interface CellSelector {
  path?: "kubernetes" | "ci";
  executor?: string;
  arch?: string;
  scenario?: string;
}

export interface MetricRule {
  /** The key as written, e.g. "tunnel.latencyUs.p95{executor:docker}". */
  key: string;
  metric: string;
  selector: CellSelector;
  thresholds: Threshold[];
}

export interface FeatureRequirement {
  feature: string;
  selector: CellSelector;
  status: FeatureStatus[];
}

export interface Stage {
  name: string;
  description?: string;
  metrics: MetricRule[];
  require: FeatureRequirement[];
  /** The rollout flag's value once the report reaches this stage (`gate --apply-flag`). */
  flag?: FlagValue;
}

export interface Policy {
  stages: Stage[];
  /** The stage the gate must reach to pass. */
  gate: string;
  /** The rollout flag's value when the report reaches no stage. */
  flagBelowFirstStage: FlagValue;
}

const STATUS: readonly string[] = FEATURE_STATUSES;
const SELECTOR_KEYS = ["path", "executor", "arch", "scenario"];

const policySchema = {
  type: "object",
  required: ["stages"],
  additionalProperties: false,
  properties: {
    gate: { type: "string" },
    flagBelowFirstStage: { $ref: "#/definitions/flag" },
    stages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["name"],
        additionalProperties: false,
        properties: {
          name: { type: "string", minLength: 1 },
          description: { type: "string" },
          flag: { $ref: "#/definitions/flag" },
          thresholds: {
            type: "object",
            additionalProperties: { type: "array", minItems: 1, items: { type: "string" } },
          },
          require: {
            type: "array",
            items: {
              type: "object",
              required: ["feature", "status"],
              additionalProperties: false,
              properties: {
                feature: { type: "string" },
                path: { enum: ["kubernetes", "ci"] },
                executor: { type: "string" },
                arch: { type: "string" },
                scenario: { type: "string" },
                status: {
                  anyOf: [{ enum: STATUS }, { type: "array", minItems: 1, items: { enum: STATUS } }],
                },
              },
            },
          },
        },
      },
    },
  },
  definitions: {
    flag: { anyOf: [{ type: "boolean" }, { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 100 }] },
  },
} as const;

const THRESHOLD = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;
const METRIC_KEY = /^([A-Za-z][\w.]*)(?:\{([^}]*)\})?$/;

/** "< 2000" → {op, value}; undefined when the text is not a comparison with a number. */
export function parseThreshold(source: string): Threshold | undefined {
  const m = THRESHOLD.exec(source);
  if (!m) return undefined;
  const value = Number(m[2]);
  if (!Number.isFinite(value)) return undefined;
  return { source: source.trim(), op: m[1] as Comparator, value };
}

/** "tunnel.latencyUs.p95{executor:docker,arch:arm64}" → metric and selector, k6 tag style. */
export function parseMetricKey(key: string): { metric: string; selector: CellSelector } | string {
  const m = METRIC_KEY.exec(key.trim());
  if (!m) return `"${key}" is not a metric name such as tunnel.latencyUs.p95 or parityPct{executor:docker}`;
  const selector: Record<string, string> = {};
  for (const part of (m[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const [name, value, ...rest] = part.split(":").map((s) => s.trim());
    if (!name || !value || rest.length > 0) return `"${part}" in "${key}" must be name:value`;
    if (!SELECTOR_KEYS.includes(name))
      return `"${name}" in "${key}" is not one of ${SELECTOR_KEYS.join(", ")}`;
    selector[name] = value;
  }
  return { metric: m[1]!, selector };
}

export function compare(actual: number, t: Threshold): boolean {
  switch (t.op) {
    case "<":
      return actual < t.value;
    case "<=":
      return actual <= t.value;
    case ">":
      return actual > t.value;
    case ">=":
      return actual >= t.value;
    case "==":
      return actual === t.value;
    case "!=":
      return actual !== t.value;
  }
}

let compiledPolicySchema: ValidateFunction | undefined;
/** Compiled once per process: compiling costs more than checking a policy. */
function policyValidator(): ValidateFunction {
  compiledPolicySchema ??= new Ajv({ allErrors: true }).compile(policySchema);
  return compiledPolicySchema;
}

/** Parses and checks a policy; every problem names file:line:column and the field. */
export function parsePolicy(text: string, file: string): Policy {
  const parsed = parseYamlWithPositions(text);
  const at = (pointer: string) => {
    const { line, column } = locate(parsed, pointer);
    return `${file}:${line}:${column}`;
  };
  const loaded = yamlData(parsed, file);
  if ("error" in loaded) throw new UsageError(loaded.error);
  const data = loaded.data as unknown;
  const validate = policyValidator();
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => {
      const extra =
        e.keyword === "additionalProperties"
          ? ` (unknown key "${(e.params as { additionalProperty: string }).additionalProperty}")`
          : "";
      const where =
        e.keyword === "additionalProperties"
          ? `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`
          : e.instancePath;
      return `${at(where)}: ${e.instancePath || "policy"} ${e.message}${extra}`;
    });
    throw new UsageError(`invalid policy:\n  ${problems.join("\n  ")}`);
  }
  const raw = data as {
    gate?: string;
    flagBelowFirstStage?: FlagValue;
    stages: {
      name: string;
      description?: string;
      flag?: FlagValue;
      thresholds?: Record<string, string[]>;
      require?: (CellSelector & { feature: string; status: FeatureStatus | FeatureStatus[] })[];
    }[];
  };
  const problems: string[] = [];
  const stages: Stage[] = raw.stages.map((s, si) => {
    const metrics: MetricRule[] = [];
    for (const [key, list] of Object.entries(s.thresholds ?? {})) {
      const pointer = `/stages/${si}/thresholds/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      const parsedKey = parseMetricKey(key);
      if (typeof parsedKey === "string") {
        problems.push(`${at(pointer)}: ${parsedKey}`);
        continue;
      }
      const thresholds: Threshold[] = [];
      list.forEach((source, i) => {
        const t = parseThreshold(source);
        if (t) thresholds.push(t);
        else
          problems.push(
            `${at(`${pointer}/${i}`)}: "${source}" must be a comparison such as "< 2000" or ">= 90"`,
          );
      });
      metrics.push({ key, ...parsedKey, thresholds });
    }
    const require = (s.require ?? []).map(({ feature, status, ...selector }) => ({
      feature,
      selector,
      status: Array.isArray(status) ? status : [status],
    }));
    return {
      name: s.name,
      description: s.description,
      metrics,
      require,
      ...(s.flag !== undefined ? { flag: s.flag } : {}),
    };
  });
  const names = stages.map((s) => s.name);
  const gate = raw.gate ?? names[names.length - 1]!;
  if (!names.includes(gate))
    problems.push(`${at("/gate")}: gate "${gate}" is not a stage (stages: ${names.join(", ")})`);
  if (problems.length > 0) throw new UsageError(`invalid policy:\n  ${problems.join("\n  ")}`);
  return { stages, gate, flagBelowFirstStage: raw.flagBelowFirstStage ?? false };
}

export async function loadPolicy(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read policy ${file}: ${(err as Error).message}`);
  }
  return parsePolicy(text, file);
}
