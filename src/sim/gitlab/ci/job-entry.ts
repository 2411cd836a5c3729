// One job's entry, validated in GitLab's order (lib/gitlab/ci/config/entry/job.rb and processable.rb: the
// job's own validations first, then each nested entry in declaration order) and normalised. Stage
// existence, needs and dependencies across jobs are checked later, on the whole config.

import { FAILURE_REASONS } from "../failure-reasons.ts";
import { parseDuration } from "./duration.ts";
import {
  arrayOfStrings,
  artifacts,
  caches,
  commands,
  type Errors,
  fault,
  image,
  retry,
  services,
  timeout,
  variables,
} from "./entry-values.ts";
import { type Hash, isHash } from "./errors.ts";
import { JOB_RULE_KEYS, JOB_RULE_WHEN, policyEntry, rulesEntry } from "./rules-entry.ts";
import type { CiJobDefinition, CiNeed } from "./types.ts";

export const JOB_KEYS = [
  // Job::ALLOWED_KEYS
  "tags",
  "script",
  "type",
  "image",
  "services",
  "start_in",
  "artifacts",
  "cache",
  "dependencies",
  "before_script",
  "after_script",
  "hooks",
  "environment",
  "coverage",
  "retry",
  "parallel",
  "interruptible",
  "timeout",
  "release",
  "secrets",
  "id_tokens",
  "identity",
  "pages",
  "publish",
  "manual_confirmation",
  "run",
  "inputs",
  // Processable::PROCESSABLE_ALLOWED_KEYS
  "extends",
  "stage",
  "only",
  "except",
  "rules",
  "variables",
  "inherit",
  "allow_failure",
  "when",
  "needs",
  "resource_group",
  "trigger",
];
export const ALLOWED_WHEN = ["on_success", "on_failure", "always", "manual", "delayed"];

/** A need as written, before `parallel` expansion renames its job. */
export interface NeedEntry extends CiNeed {
  matrix?: Record<string, string[]>[];
}

export function needsEntry(value: unknown, location: string, errors: Errors): NeedEntry[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value : isHash(value) ? [value] : undefined;
  if (!items) {
    errors.push(fault(location, "config can only be a hash or an array"));
    return undefined;
  }
  return items.flatMap((need): NeedEntry[] => {
    if (typeof need === "string") return [{ name: need, artifacts: true, optional: false }];
    if (!isHash(need) || typeof need.job !== "string") {
      errors.push(fault(`${location}:need`, "has an unsupported type"));
      return [];
    }
    if ("pipeline" in need || "project" in need) return []; // cross-pipeline needs: not in this pipeline
    const unknown = Object.keys(need).filter(
      (k) => !["job", "artifacts", "optional", "parallel"].includes(k),
    );
    if (unknown.length > 0)
      errors.push(fault(`${location}:need`, `config contains unknown keys: ${unknown.join(", ")}`));
    if (need.artifacts !== undefined && typeof need.artifacts !== "boolean")
      errors.push(fault(`${location}:need`, "artifacts should be a boolean value"));
    if (need.optional !== undefined && typeof need.optional !== "boolean")
      errors.push(fault(`${location}:need`, "optional should be a boolean value"));
    const matrix =
      isHash(need.parallel) && Array.isArray(need.parallel.matrix)
        ? matrixEntry(need.parallel.matrix)
        : undefined;
    return [
      {
        name: need.job,
        artifacts: need.artifacts !== false,
        optional: need.optional === true,
        ...(matrix ? { matrix } : {}),
      },
    ];
  });
}

function matrixEntry(rows: unknown[]): Record<string, string[]>[] | undefined {
  const out: Record<string, string[]>[] = [];
  for (const row of rows) {
    if (!isHash(row)) return undefined;
    const entry: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(row)) {
      const values = Array.isArray(v) ? v : [v];
      if (!values.every((x) => ["string", "number", "boolean"].includes(typeof x))) return undefined;
      entry[k] = values.map(String);
    }
    out.push(entry);
  }
  return out;
}

export type ParallelEntry = { total: number } | { matrix: Record<string, string[]>[] };

function parallelEntry(value: unknown, location: string, errors: Errors): ParallelEntry | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) errors.push(fault(location, "config must be an integer"));
    else if (value < 1) errors.push(fault(location, "config must be greater than or equal to 1"));
    else if (value > 200) errors.push(fault(location, "config must be less than or equal to 200"));
    else return { total: value };
    return undefined;
  }
  if (!isHash(value)) {
    errors.push(fault(location, "should be an integer or a hash"));
    return undefined;
  }
  const unknown = Object.keys(value).filter((k) => k !== "matrix");
  if (unknown.length > 0) errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
  if (value.matrix === undefined) {
    errors.push(fault(location, "config missing required keys: matrix"));
    return undefined;
  }
  const matrix = Array.isArray(value.matrix) ? matrixEntry(value.matrix) : undefined;
  if (!matrix) {
    errors.push(fault(`${location}:matrix`, "config should be an array of hashes"));
    return undefined;
  }
  const total = matrix.reduce((n, row) => n + Object.values(row).reduce((m, v) => m * v.length, 1), 0);
  if (total > 200)
    errors.push(fault(`${location}:matrix`, "config generates too many jobs (maximum is 200)"));
  return { matrix };
}

function inheritVariables(inherit: unknown): boolean | string[] {
  if (!isHash(inherit)) return true;
  if (inherit.variables === false) return false;
  return arrayOfStrings(inherit.variables) ? inherit.variables : true;
}

export interface JobEntry {
  definition: Omit<CiJobDefinition, "stageIndex" | "needs" | "parallel"> & { needs: NeedEntry[] | null };
  parallel?: ParallelEntry;
}

export function jobEntry(name: string, job: Hash, errors: Errors): JobEntry {
  const where = `jobs:${name}`;
  const hasRules = job.rules !== undefined && job.rules !== null;
  // Processable's validations
  if (name.length > 255) errors.push(fault(where, "name is too long (maximum is 255 characters)"));
  if (hasRules) {
    const disallowed = ["only", "except", "start_in"].filter((k) => job[k] !== undefined && job[k] !== null);
    if (disallowed.length > 0)
      errors.push(fault(where, `config key may not be used with \`rules\`: ${disallowed.join(", ")}`));
  }
  if (job.extends !== undefined && typeof job.extends !== "string" && !arrayOfStrings(job.extends))
    errors.push(fault(where, "extends should be an array of strings or a string"));
  if (job.resource_group !== undefined && typeof job.resource_group !== "string")
    errors.push(fault(where, "resource group should be a string"));
  // Job's validations
  const unknown = Object.keys(job).filter((k) => !JOB_KEYS.includes(k));
  if (unknown.length > 0) errors.push(fault(where, `config contains unknown keys: ${unknown.join(", ")}`));
  if (job.when !== undefined && !ALLOWED_WHEN.includes(String(job.when)))
    errors.push(fault(where, `when should be one of: ${ALLOWED_WHEN.join(", ")}`));
  if (job.dependencies !== undefined && !arrayOfStrings(job.dependencies))
    errors.push(fault(where, "dependencies should be an array of strings"));
  const allowFailure = job.allow_failure;
  if (allowFailure !== undefined && typeof allowFailure !== "boolean" && !isHash(allowFailure))
    errors.push(fault(where, "allow failure should be a hash or a boolean value"));
  const delayed = job.when === "delayed";
  if (delayed && !hasRules) {
    if (typeof job.start_in !== "string" || parseDuration(job.start_in) === undefined)
      errors.push(fault(where, "start in should be a duration"));
    else if (parseDuration(job.start_in)! > 604_800)
      errors.push(fault(where, "start in should not exceed the limit"));
  } else if (!delayed && !hasRules && job.start_in !== undefined)
    errors.push(fault(where, "start in must be blank"));
  const needs = needsEntry(job.needs, `${where}:needs`, []);
  if (arrayOfStrings(job.dependencies) && needs && needs.length > 0) {
    const missing = job.dependencies.filter((d) => !needs.some((n) => n.name === d));
    if (missing.length > 0)
      errors.push(fault(where, `dependencies the ${missing.join(", ")} should be part of needs`));
  }
  // Nested entries, in declaration order
  if (job.stage !== undefined && typeof job.stage !== "string")
    errors.push(fault(`${where}:stage`, "config should be a string"));
  const only = policyEntry(job.only, `${where}:only`, errors);
  const except = policyEntry(job.except, `${where}:except`, errors);
  const rules = rulesEntry(job.rules, `${where}:rules`, errors, JOB_RULE_KEYS, JOB_RULE_WHEN, (v, at) =>
    needsEntry(v, at, errors),
  );
  const jobVariables = variables(job.variables, `${where}:variables`, errors);
  const beforeScript = commands(job.before_script, `${where}:before_script`, errors);
  const script = commands(job.script, `${where}:script`, errors);
  const afterScript = commands(job.after_script, `${where}:after_script`, errors);
  const cache = caches(job.cache, `${where}:cache`, errors);
  const jobImage = image(job.image, `${where}:image`, errors);
  const jobServices = services(job.services, `${where}:services`, errors);
  if (job.interruptible !== undefined && typeof job.interruptible !== "boolean")
    errors.push(fault(`${where}:interruptible`, "config should be a boolean value"));
  const timeoutSeconds = timeout(job.timeout, `${where}:timeout`, errors);
  const retries = retry(job.retry, `${where}:retry`, errors, FAILURE_REASONS);
  if (job.tags !== undefined && !arrayOfStrings(job.tags))
    errors.push(fault(`${where}:tags`, "config should be an array of strings"));
  const jobArtifacts = artifacts(job.artifacts, `${where}:artifacts`, errors);
  const parsedNeeds = needsEntry(job.needs, `${where}:needs`, errors);
  if (job.environment !== undefined && typeof job.environment !== "string" && !isHash(job.environment))
    errors.push(fault(`${where}:environment`, "config should be a hash or a string"));
  const parallel = parallelEntry(job.parallel, `${where}:parallel`, errors);
  let exitCodes: number[] = [];
  if (isHash(allowFailure)) {
    const codes = allowFailure.exit_codes;
    if (Number.isInteger(codes)) exitCodes = [codes as number];
    else if (Array.isArray(codes) && codes.every(Number.isInteger)) exitCodes = codes as number[];
    else
      errors.push(fault(`${where}:allow_failure`, "exit codes should be an array of integers or an integer"));
  }
  const when = (ALLOWED_WHEN.includes(String(job.when)) ? job.when : "on_success") as CiJobDefinition["when"];
  const hooks = isHash(job.hooks)
    ? commands(job.hooks.pre_get_sources_script, `${where}:hooks:pre_get_sources_script`, errors)
    : [];
  const environment =
    typeof job.environment === "string"
      ? job.environment
      : isHash(job.environment) && typeof job.environment.name === "string"
        ? job.environment.name
        : undefined;
  return {
    definition: {
      name,
      stage: typeof job.stage === "string" ? job.stage : "test",
      ...(jobImage ? { image: jobImage } : {}),
      services: jobServices,
      variables: jobVariables,
      beforeScript,
      script,
      afterScript,
      preGetSourcesScript: hooks,
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      tags: arrayOfStrings(job.tags) ? job.tags : [],
      cache,
      ...(jobArtifacts ? { artifacts: jobArtifacts } : {}),
      interruptible: job.interruptible === true,
      when,
      ...(typeof job.start_in === "string" ? { startIn: job.start_in } : {}),
      // GitLab's `ignore`: allow_failure as written (false when it is exit_codes), else true for manual jobs.
      allowFailure:
        typeof allowFailure === "boolean" ? allowFailure : isHash(allowFailure) ? false : when === "manual",
      allowFailureExitCodes: exitCodes,
      needs: parsedNeeds ?? null,
      dependencies: arrayOfStrings(job.dependencies) ? job.dependencies : null,
      retry: retries,
      inheritVariables: inheritVariables(job.inherit),
      ...(typeof job.resource_group === "string" ? { resourceGroup: job.resource_group } : {}),
      ...(environment ? { environment } : {}),
      ...(typeof job.coverage === "string" ? { coverage: job.coverage } : {}),
      ...(rules ? { rules } : {}),
      ...(only ? { only } : {}),
      ...(except ? { except } : {}),
    },
    ...(parallel ? { parallel } : {}),
  };
}
