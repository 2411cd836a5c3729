// Reads a .gitlab-ci.yml the way GitLab's pipeline creation does for the keywords this project needs:
// stages, image, services, variables, script, before_script, after_script, timeout, tags, cache,
// interruptible and rules (if + when). Unknown keywords are errors, worded like GitLab's lint.

import { parse } from "yaml";
import { ExpressionError, evaluateIf } from "./rules.ts";

const GLOBAL_KEYWORDS = new Set([
  "default",
  "include",
  "stages",
  "variables",
  "workflow",
  "image",
  "services",
  "cache",
  "before_script",
  "after_script",
  "spec",
]);
const JOB_KEYWORDS = new Set([
  "image",
  "services",
  "before_script",
  "after_script",
  "hooks",
  "rules",
  "variables",
  "cache",
  "id_tokens",
  "identity",
  "inputs",
  "secrets",
  "script",
  "run",
  "stage",
  "only",
  "extends",
  "needs",
  "except",
  "tags",
  "allow_failure",
  "timeout",
  "when",
  "start_in",
  "manual_confirmation",
  "dependencies",
  "artifacts",
  "environment",
  "release",
  "coverage",
  "retry",
  "parallel",
  "interruptible",
  "resource_group",
  "trigger",
  "inherit",
  "publish",
  "pages",
]);
const DEFAULT_STAGES = ["build", "test", "deploy"];

export class CiConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join(", "));
  }
}

export interface CiVariable {
  key: string;
  value: string;
  /** expand: false in YAML → the runner must not expand it. */
  raw: boolean;
}

export interface CiImage {
  name: string;
  entrypoint?: string[];
  command?: string[];
  alias?: string;
  variables?: CiVariable[];
  platform?: string;
  user?: string;
}

export interface CiCache {
  key: string;
  paths: string[];
  when: "on_success" | "on_failure" | "always";
  policy: string;
  untracked: boolean;
}

export interface CiJobDefinition {
  name: string;
  stage: string;
  stageIndex: number;
  image?: CiImage;
  services: CiImage[];
  variables: CiVariable[];
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  timeoutSeconds?: number;
  tags: string[];
  cache: CiCache[];
  interruptible: boolean;
  when: string;
}

export interface EvaluatedConfig {
  stages: string[];
  globalVariables: CiVariable[];
  jobs: CiJobDefinition[];
}

type Hash = Record<string, unknown>;
const isHash = (v: unknown): v is Hash => typeof v === "object" && v !== null && !Array.isArray(v);

function variablesOf(value: unknown, where: string, errors: string[]): CiVariable[] {
  if (value === undefined || value === null) return [];
  if (!isHash(value)) {
    errors.push(`${where} config should be a hash of key value pairs`);
    return [];
  }
  const out: CiVariable[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (["string", "number", "boolean"].includes(typeof v)) out.push({ key, value: String(v), raw: false });
    else if (isHash(v) && (typeof v.value === "string" || v.value === undefined)) {
      out.push({ key, value: (v.value as string | undefined) ?? "", raw: v.expand === false });
    } else errors.push(`${where} config should be a hash of key value pairs, value can be a hash`);
  }
  return out;
}

function stringList(value: unknown, where: string, errors: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) {
    const flat = value.flat(9);
    if (flat.every((s) => typeof s === "string")) return flat as string[];
  }
  errors.push(`${where} config should be a string or a nested array of strings up to 10 levels deep`);
  return [];
}

function imageOf(value: unknown, where: string, errors: string[]): CiImage | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { name: value };
  if (!isHash(value) || typeof value.name !== "string") {
    errors.push(`${where} config should be a hash or a string`);
    return undefined;
  }
  const allowed = new Set([
    "name",
    "entrypoint",
    "command",
    "alias",
    "variables",
    "docker",
    "kubernetes",
    "pull_policy",
    "ports",
  ]);
  const unknown = Object.keys(value).filter((k) => !allowed.has(k));
  if (unknown.length > 0) errors.push(`${where} config contains unknown keys: ${unknown.join(", ")}`);
  const image: CiImage = { name: value.name };
  if (value.entrypoint !== undefined)
    image.entrypoint = stringList(value.entrypoint, `${where}:entrypoint`, errors);
  if (value.command !== undefined) image.command = stringList(value.command, `${where}:command`, errors);
  if (typeof value.alias === "string") image.alias = value.alias;
  if (value.variables !== undefined)
    image.variables = variablesOf(value.variables, `${where}:variables`, errors);
  if (isHash(value.docker)) {
    if (typeof value.docker.platform === "string") image.platform = value.docker.platform;
    if (typeof value.docker.user === "string") image.user = value.docker.user;
  }
  return image;
}

const DURATION_UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

/** Parses a GitLab duration ("24h", "1h 30m", "90 minutes", "3600"); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  let total = 0;
  let matched = "";
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)\s*(?:and\s*)?/g)) {
    const unit = DURATION_UNITS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    matched += m[0];
  }
  return matched.replace(/\s/g, "") === trimmed.replace(/\s/g, "") && total > 0
    ? Math.round(total)
    : undefined;
}

function cacheOf(value: unknown, where: string, errors: string[]): CiCache[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) => {
    if (!isHash(item)) {
      errors.push(`${where} config should be a hash or an array of hashes`);
      return [];
    }
    const when = (item.when as string | undefined) ?? "on_success";
    if (!["on_success", "on_failure", "always"].includes(when))
      errors.push(`${where}:when config should be on_success, on_failure or always`);
    return [
      {
        key: typeof item.key === "string" ? item.key : "default",
        paths: stringList(item.paths, `${where}:paths`, errors),
        when: when as CiCache["when"],
        policy: typeof item.policy === "string" ? item.policy : "pull-push",
        untracked: item.untracked === true,
      },
    ];
  });
}

/**
 * Lints and evaluates a CI config for one pipeline. Throws CiConfigError with GitLab-worded messages;
 * returns only the jobs whose rules let them run for these variables.
 */
export function evaluateCiConfig(text: string, pipelineVariables: Record<string, string>): EvaluatedConfig {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new CiConfigError([
      `(<unknown>): ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    ]);
  }
  if (!isHash(document)) throw new CiConfigError(["Invalid configuration format"]);
  const errors: string[] = [];
  const stages =
    document.stages === undefined ? DEFAULT_STAGES : stringList(document.stages, "stages", errors);
  const allStages = [".pre", ...stages, ".post"];
  const globalVariables = variablesOf(document.variables, "variables", errors);
  const defaults = isHash(document.default) ? document.default : {};
  const globalImage = imageOf(defaults.image ?? document.image, "image", errors);
  const globalBefore = stringList(defaults.before_script ?? document.before_script, "before_script", errors);
  const globalAfter = stringList(defaults.after_script ?? document.after_script, "after_script", errors);

  const jobs: CiJobDefinition[] = [];
  for (const [name, body] of Object.entries(document)) {
    if (GLOBAL_KEYWORDS.has(name) || name.startsWith(".")) continue;
    if (!isHash(body)) {
      errors.push(`jobs:${name} config should be a hash`);
      continue;
    }
    const where = `jobs:${name}`;
    const unknown = Object.keys(body).filter((k) => !JOB_KEYWORDS.has(k));
    if (unknown.length > 0) errors.push(`${where} config contains unknown keys: ${unknown.join(", ")}`);
    if (body.script === undefined && body.trigger === undefined && body.run === undefined) {
      errors.push(`${where} config should implement the script:, run:, or trigger: keyword`);
    }
    const stage = (body.stage as string | undefined) ?? "test";
    if (!allStages.includes(stage)) {
      errors.push(
        `${name} job: chosen stage ${stage} does not exist; available stages are ${allStages.join(", ")}`,
      );
    }
    let timeoutSeconds: number | undefined;
    if (body.timeout !== undefined) {
      timeoutSeconds = typeof body.timeout === "string" ? parseDuration(body.timeout) : undefined;
      if (timeoutSeconds === undefined) errors.push(`${where}:timeout config should be a duration`);
    }
    const jobVariables = variablesOf(body.variables, `${where}:variables`, errors);
    const job: CiJobDefinition = {
      name,
      stage,
      stageIndex: allStages.indexOf(stage),
      image: imageOf(body.image, `${where}:image`, errors) ?? globalImage,
      services: Array.isArray(body.services)
        ? body.services
            .map((s, i) => imageOf(s, `${where}:services:service[${i}]`, errors))
            .filter((s): s is CiImage => !!s)
        : [],
      variables: jobVariables,
      beforeScript:
        body.before_script !== undefined
          ? stringList(body.before_script, `${where}:before_script`, errors)
          : globalBefore,
      script: stringList(body.script, `${where}:script`, errors),
      afterScript:
        body.after_script !== undefined
          ? stringList(body.after_script, `${where}:after_script`, errors)
          : globalAfter,
      timeoutSeconds,
      tags: stringList(body.tags, `${where}:tags`, errors),
      cache: cacheOf(body.cache, `${where}:cache`, errors),
      interruptible: body.interruptible === true,
      when: typeof body.when === "string" ? body.when : "on_success",
    };
    const rules = body.rules;
    if (rules !== undefined && rules !== null) {
      if (!Array.isArray(rules)) {
        errors.push(`${where}:rules config should be an array of hashes`);
        continue;
      }
      const context = Object.fromEntries([...globalVariables, ...jobVariables].map((v) => [v.key, v.value]));
      Object.assign(context, pipelineVariables);
      let matched: Hash | undefined;
      for (const [i, rule] of rules.entries()) {
        if (!isHash(rule)) {
          errors.push(`${where}:rules:rule config should be a hash`);
          break;
        }
        const ruleUnknown = Object.keys(rule).filter(
          (k) =>
            ![
              "if",
              "when",
              "changes",
              "exists",
              "variables",
              "allow_failure",
              "start_in",
              "needs",
              "interruptible",
            ].includes(k),
        );
        if (ruleUnknown.length > 0)
          errors.push(`${where}:rules:rule config contains unknown keys: ${ruleUnknown.join(", ")}`);
        try {
          if (rule.if === undefined || evaluateIf(String(rule.if), context)) {
            matched = rule;
            break;
          }
        } catch (err) {
          if (err instanceof ExpressionError)
            errors.push(`${where}:rules:rule[${i}] if invalid expression syntax: ${err.message}`);
          else throw err;
          break;
        }
      }
      if (!matched || matched.when === "never") continue;
      if (typeof matched.when === "string") job.when = matched.when === "always" ? "always" : matched.when;
    }
    if (job.when === "never") continue;
    jobs.push(job);
  }
  if (errors.length > 0) throw new CiConfigError(errors);
  if (Object.keys(document).every((k) => GLOBAL_KEYWORDS.has(k) || k.startsWith("."))) {
    throw new CiConfigError(["jobs config should contain at least one visible job"]);
  }
  return { stages: allStages, globalVariables, jobs: jobs.sort((a, b) => a.stageIndex - b.stageIndex) };
}
