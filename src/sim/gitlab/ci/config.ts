// A whole .gitlab-ci.yml as GitLab's Gitlab::Ci::Config and YamlProcessor read it, before any pipeline:
// load → include:local → extends → !reference → entries validated in GitLab's order → `.pre`/`.post`
// stages → parallel and parallel:matrix expanded with GitLab's job names → stage, needs and dependencies
// checked across jobs. Every error is GitLab's wording; GitLab reports the first, the lint API all.

import { FAILURE_REASONS } from "../failure-reasons.ts";
import {
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
import { CiConfigError, type Hash, isHash } from "./errors.ts";
import { resolveExtends } from "./extends.ts";
import { expandIncludes, type FileReader } from "./include.ts";
import { type JobEntry, jobEntry, type NeedEntry, needsEntry } from "./job-entry.ts";
import { resolveReferences } from "./reference.ts";
import { rulesEntry, WORKFLOW_RULE_KEYS, WORKFLOW_RULE_WHEN } from "./rules-entry.ts";
import type { CiConfig, CiJobDefinition, CiNeed } from "./types.ts";
import { loadCiYaml } from "./yaml-load.ts";

const RESERVED = [
  "default",
  "include",
  "before_script",
  "image",
  "services",
  "after_script",
  "variables",
  "stages",
  "types",
  "cache",
  "workflow",
  "spec",
];
const DEFAULT_STAGES = ["build", "test", "deploy"];
const DEFAULT_KEYS = [
  "before_script",
  "image",
  "services",
  "after_script",
  "cache",
  "interruptible",
  "timeout",
  "retry",
  "tags",
  "artifacts",
  "hooks",
  "id_tokens",
  "identity",
];

/** The config with includes, extends and references resolved (the lint API's merged_yaml). */
export function mergeCiConfig(text: string, readFile: FileReader = () => undefined): Hash {
  return resolveReferences(resolveExtends(expandIncludes(loadCiYaml(text), readFile)));
}

/** Reads, lints and expands a CI config; CiConfigError listing GitLab's errors in GitLab's order. */
export function readCiConfig(text: string, readFile: FileReader = () => undefined): CiConfig {
  const errors: Errors = [];
  const config = processRoot(mergeCiConfig(text, readFile), errors);
  if (errors.length > 0) throw new CiConfigError(errors);
  return config;
}

function processRoot(root: Hash, errors: Errors): CiConfig {
  const defaults = isHash(root.default) ? root.default : {};
  if (root.default !== undefined && !isHash(root.default))
    errors.push(fault("default", "config should be a hash"));
  const unknownDefaults = Object.keys(defaults).filter((k) => !DEFAULT_KEYS.includes(k));
  if (unknownDefaults.length > 0)
    errors.push(fault("default", `config contains unknown keys: ${unknownDefaults.join(", ")}`));
  // The old top-level keywords act as `default:` for what it does not set.
  const effectiveDefaults: Hash = { ...defaults };
  for (const key of ["before_script", "image", "services", "after_script", "cache"])
    if (effectiveDefaults[key] === undefined && root[key] !== undefined) effectiveDefaults[key] = root[key];
  const at = (key: string) => (defaults[key] !== undefined ? `default:${key}` : key);
  commands(effectiveDefaults.before_script, at("before_script"), errors);
  image(effectiveDefaults.image, at("image"), errors);
  services(effectiveDefaults.services, at("services"), errors);
  commands(effectiveDefaults.after_script, at("after_script"), errors);
  const globalVariables = variables(root.variables, "variables", errors);
  let stages = DEFAULT_STAGES;
  if (root.stages !== undefined) {
    const flat = Array.isArray(root.stages) ? root.stages.flat(10) : undefined;
    if (flat?.every((s) => typeof s === "string")) stages = flat as string[];
    else
      errors.push(
        fault(
          "stages",
          "config should be an array of strings or a nested array of strings up to 10 levels deep",
        ),
      );
  }
  caches(effectiveDefaults.cache, at("cache"), errors);
  timeout(effectiveDefaults.timeout, "default:timeout", errors);
  retry(effectiveDefaults.retry, "default:retry", errors, FAILURE_REASONS);
  artifacts(effectiveDefaults.artifacts, "default:artifacts", errors);
  let workflowRules: CiConfig["workflowRules"];
  if (root.workflow !== undefined) {
    if (!isHash(root.workflow)) errors.push(fault("workflow", "config should be a hash"));
    else {
      const unknown = Object.keys(root.workflow).filter((k) => !["rules", "name", "auto_cancel"].includes(k));
      if (unknown.length > 0)
        errors.push(fault("workflow", `config contains unknown keys: ${unknown.join(", ")}`));
      workflowRules = rulesEntry(
        root.workflow.rules,
        "workflow:rules",
        errors,
        WORKFLOW_RULE_KEYS,
        WORKFLOW_RULE_WHEN,
        (v, where) => needsEntry(v, where, errors),
      );
    }
  }

  const names = Object.keys(root).filter((k) => !RESERVED.includes(k) && !k.startsWith("."));
  for (const name of names) {
    const body = root[name];
    if (!isHash(body) || (body.script === undefined && body.run === undefined && body.trigger === undefined))
      errors.push(fault("jobs", `${name} config should implement the script:, run:, or trigger: keyword`));
  }
  if (names.length === 0) errors.push(fault("jobs", "config should contain at least one visible job"));
  const entries: JobEntry[] = [];
  for (const name of names) {
    const body = root[name];
    if (!isHash(body) || (body.script === undefined && body.run === undefined && body.trigger === undefined))
      continue;
    const entry = jobEntry(name, body, errors);
    applyDefaults(entry, body, effectiveDefaults);
    entries.push(entry);
  }

  const allStages = [".pre", ...stages.filter((s) => s !== ".pre" && s !== ".post"), ".post"];
  for (const { definition } of entries) {
    if (!allStages.includes(definition.stage))
      errors.push(
        `${definition.name} job: chosen stage ${definition.stage} does not exist; available stages are ${allStages.join(", ")}`,
      );
  }
  const jobs = expandParallel(entries, allStages);
  checkNeedsAndDependencies(entries, jobs, errors);
  return { stages: allStages, globalVariables, ...(workflowRules ? { workflowRules } : {}), jobs };
}

/** Fills what the job does not set from `default:`, as `inherit:default` allows. */
function applyDefaults(entry: JobEntry, raw: Hash, defaults: Hash): void {
  const inherit = isHash(raw.inherit) ? raw.inherit.default : undefined;
  const inherits = (key: string) =>
    raw[key] === undefined &&
    defaults[key] !== undefined &&
    inherit !== false &&
    (!Array.isArray(inherit) || inherit.includes(key));
  const quiet: Errors = [];
  const d = entry.definition;
  if (inherits("before_script")) d.beforeScript = commands(defaults.before_script, "", quiet);
  if (inherits("after_script")) d.afterScript = commands(defaults.after_script, "", quiet);
  if (inherits("image")) {
    const img = image(defaults.image, "", quiet);
    if (img) d.image = img;
  }
  if (inherits("services")) d.services = services(defaults.services, "", quiet);
  if (inherits("cache")) d.cache = caches(defaults.cache, "", quiet);
  if (inherits("interruptible")) d.interruptible = defaults.interruptible === true;
  if (inherits("timeout")) {
    const t = timeout(defaults.timeout, "", quiet);
    if (t !== undefined) d.timeoutSeconds = t;
  }
  if (inherits("retry")) d.retry = retry(defaults.retry, "", quiet, FAILURE_REASONS);
  if (inherits("tags") && Array.isArray(defaults.tags)) d.tags = defaults.tags.map(String);
  if (inherits("artifacts")) {
    const a = artifacts(defaults.artifacts, "", quiet);
    if (a) d.artifacts = a;
  }
  if (inherits("hooks") && isHash(defaults.hooks))
    d.preGetSourcesScript = commands(defaults.hooks.pre_get_sources_script, "", quiet);
}

function product(row: Record<string, string[]>): Record<string, string>[] {
  return Object.entries(row).reduce<Record<string, string>[]>(
    (acc, [key, values]) => acc.flatMap((partial) => values.map((v) => ({ ...partial, [key]: v }))),
    [{}],
  );
}

/** parallel: N → "name i/N"; parallel:matrix → "name: [v1, v2]" with the row's variables (MatrixStrategy). */
function expandParallel(entries: JobEntry[], allStages: string[]): CiJobDefinition[] {
  const jobs: CiJobDefinition[] = [];
  for (const { definition, parallel } of entries) {
    const base = {
      ...definition,
      stageIndex: allStages.indexOf(definition.stage),
      needs: null,
    } as CiJobDefinition;
    const needs = definition.needs;
    const finish = (job: CiJobDefinition) => {
      (job as { rawNeeds?: NeedEntry[] | null }).rawNeeds = needs;
      jobs.push(job);
    };
    if (!parallel) finish({ ...base });
    else if ("total" in parallel) {
      for (let i = 1; i <= parallel.total; i++)
        finish({
          ...base,
          name: `${definition.name} ${i}/${parallel.total}`,
          parallel: { index: i, total: parallel.total },
        });
    } else {
      const rows = parallel.matrix.flatMap(product);
      for (const [i, row] of rows.entries())
        finish({
          ...base,
          name: `${definition.name}: [${Object.values(row).join(", ")}]`,
          variables: [
            ...definition.variables,
            ...Object.entries(row).map(([key, value]) => ({ key, value, raw: false })),
          ],
          parallel: { index: i + 1, total: rows.length, matrix: row },
        });
    }
  }
  return jobs;
}

/** The jobs a need or dependency names: the job itself, or every parallel instance of it (filtered by a matrix). */
function instancesOf(
  name: string,
  jobs: CiJobDefinition[],
  entries: JobEntry[],
  matrix?: Record<string, string[]>[],
): string[] {
  const entry = entries.find((e) => e.definition.name === name);
  if (!entry?.parallel) return entries.some((e) => e.definition.name === name) ? [name] : [];
  const prefix = jobs.filter(
    (j) => j.parallel && (j.name.startsWith(`${name} `) || j.name.startsWith(`${name}: [`)),
  );
  if (!matrix) return prefix.map((j) => j.name);
  const wanted = matrix.flatMap(product);
  return prefix
    .filter((j) => wanted.some((row) => Object.entries(row).every(([k, v]) => j.parallel?.matrix?.[k] === v)))
    .map((j) => j.name);
}

function checkNeedsAndDependencies(entries: JobEntry[], jobs: CiJobDefinition[], errors: Errors): void {
  const stageOf = new Map(jobs.map((j) => [j.name, j.stageIndex]));
  const defined = new Set(entries.map((e) => e.definition.name));
  for (const job of jobs) {
    const raw = (job as { rawNeeds?: NeedEntry[] | null }).rawNeeds ?? null;
    delete (job as { rawNeeds?: unknown }).rawNeeds;
    const source = entries.find(
      (e) =>
        e.definition.name === job.name ||
        job.name.startsWith(`${e.definition.name} `) ||
        job.name.startsWith(`${e.definition.name}: [`),
    )!;
    const jobName = source.definition.name;
    if (raw) {
      const needs: CiNeed[] = [];
      const seen = new Set<string>();
      const duplicates = new Set<string>();
      for (const need of raw) {
        if (seen.has(need.name) && !need.matrix) duplicates.add(need.name);
        seen.add(need.name);
        if (!defined.has(need.name)) {
          if (!need.optional) errors.push(`${jobName} job: undefined need: ${need.name}`);
          continue;
        }
        for (const name of instancesOf(need.name, jobs, entries, need.matrix)) {
          if ((stageOf.get(name) ?? 0) > job.stageIndex)
            errors.push(`${jobName} job: need ${need.name} is not defined in current or prior stages`);
          if (name === job.name)
            errors.push(`The pipeline has circular dependencies: self-dependency: ${jobName}`);
          needs.push({ name, artifacts: need.artifacts, optional: need.optional });
        }
      }
      if (duplicates.size > 0)
        errors.push(`${jobName} has the following needs duplicated: ${[...duplicates].join(", ")}.`);
      job.needs = needs;
    }
    if (job.dependencies) {
      const expanded: string[] = [];
      for (const dependency of job.dependencies) {
        if (!defined.has(dependency)) {
          errors.push(`${jobName} job: undefined dependency: ${dependency}`);
          continue;
        }
        for (const name of instancesOf(dependency, jobs, entries)) {
          if ((stageOf.get(name) ?? 0) > job.stageIndex)
            errors.push(`${jobName} job: dependency ${dependency} is not defined in current or prior stages`);
          expanded.push(name);
        }
      }
      job.dependencies = expanded;
    }
  }
  const dedupe = [...new Set(errors)];
  errors.splice(0, errors.length, ...dedupe);
}
