// The jobs one pipeline gets from a config, as GitLab's pipeline creation chain decides them
// (lib/gitlab/ci/pipeline/chain/, lib/gitlab/ci/build/rules.rb, build/policy/): `workflow:rules` decide
// whether there is a pipeline at all; each job's `rules` (first match wins: if + changes + exists) or
// `only`/`except` decide whether it is in it, with which `when`, `allow_failure`, `variables` and `needs`;
// a job that needs a job no longer in the pipeline fails the creation unless the need is optional. Runner
// tags expand `$VAR` against the job's variables (matrix, job, global, workflow, pipeline and predefined).

import picomatch from "picomatch";
import { CiConfigError } from "./errors.ts";
import { expandExisting } from "./expand-variables.ts";
import { evaluateExpression } from "./expression.ts";
import type { CiConfig, CiJobDefinition, CiPolicy, CiRule, CiVariable } from "./types.ts";

export interface PipelineContext {
  /** Predefined and pipeline variables (CI_PIPELINE_SOURCE, CI_COMMIT_REF_NAME, …, then the user's). */
  variables: Record<string, string>;
  source: string;
  ref: string;
  tag: boolean;
  /** Files the push changed; undefined where GitLab treats `changes` as true (new branch, web, API, schedule). */
  changedFiles?: string[];
  /** Paths of every file in the pipeline's commit (for `exists`). */
  files: string[];
}

export interface SeededPipeline {
  /** Variables `workflow:rules` added to every job. */
  workflowVariables: CiVariable[];
  jobs: CiJobDefinition[];
}

const glob = (patterns: string[], paths: string[]) => {
  const match = picomatch(patterns, { dot: true });
  return paths.some((p) => match(p));
};

function ruleMatches(rule: CiRule, variables: Record<string, string>, context: PipelineContext): boolean {
  if (rule.if !== undefined && !evaluateExpression(rule.if, variables)) return false;
  if (
    rule.changes !== undefined &&
    context.changedFiles !== undefined &&
    !glob(rule.changes, context.changedFiles)
  )
    return false;
  if (rule.exists !== undefined && !glob(rule.exists, context.files)) return false;
  return true;
}

const SOURCE_KEYWORDS: Record<string, string> = {
  api: "api",
  external: "external",
  pipelines: "pipeline",
  pushes: "push",
  schedules: "schedule",
  triggers: "trigger",
  web: "web",
  merge_requests: "merge_request_event",
  chat: "chat",
  external_pull_requests: "external_pull_request_event",
};

function refMatches(pattern: string, context: PipelineContext): boolean {
  if (pattern === "branches") return !context.tag;
  if (pattern === "tags") return context.tag;
  if (pattern in SOURCE_KEYWORDS) return context.source === SOURCE_KEYWORDS[pattern];
  const regex = /^\/(.+)\/([ismU]*)$/.exec(pattern);
  if (regex) return new RegExp(regex[1]!, regex[2]!.replace("U", "")).test(context.ref);
  return pattern.replace(/@.*$/, "") === context.ref;
}

function policyMatches(
  policy: CiPolicy,
  variables: Record<string, string>,
  context: PipelineContext,
  any: boolean,
) {
  const checks: boolean[] = [];
  if (policy.refs) checks.push(policy.refs.some((r) => refMatches(r, context)));
  if (policy.variables) checks.push(policy.variables.some((v) => evaluateExpression(v, variables)));
  if (policy.changes)
    checks.push(context.changedFiles === undefined || glob(policy.changes, context.changedFiles));
  if (policy.kubernetes) checks.push(false);
  return any ? checks.some(Boolean) : checks.every(Boolean);
}

const asRecord = (vars: CiVariable[]) => Object.fromEntries(vars.map((v) => [v.key, v.value]));

/** Which jobs this pipeline gets; CiConfigError with GitLab's message when it gets none or cannot be created. */
export function seedPipeline(config: CiConfig, context: PipelineContext): SeededPipeline {
  let workflowVariables: CiVariable[] = [];
  const rootVariables = { ...asRecord(config.globalVariables), ...context.variables };
  if (config.workflowRules) {
    const rule = config.workflowRules.find((r) => ruleMatches(r, rootVariables, context));
    if (!rule || rule.when === "never") throw new CiConfigError(["Pipeline filtered out by workflow rules."]);
    workflowVariables = rule.variables;
  }
  const jobs: CiJobDefinition[] = [];
  for (const definition of config.jobs) {
    const inherited = config.globalVariables.filter(
      (v) =>
        definition.inheritVariables === true ||
        (Array.isArray(definition.inheritVariables) && definition.inheritVariables.includes(v.key)),
    );
    const variables = {
      ...asRecord(inherited),
      ...asRecord(workflowVariables),
      ...asRecord(definition.variables),
      ...context.variables,
    };
    const job: CiJobDefinition = {
      ...definition,
      variables: [...inherited, ...workflowVariables, ...definition.variables],
      // Seed::Build#evaluate_runner_tags: the job's variables before its rules (rules:variables do not reach tags).
      tags: definition.tags.map((tag) => expandExisting(tag, variables)),
    };
    if (definition.rules) {
      const rule = definition.rules.find((r) => ruleMatches(r, variables, context));
      if (!rule || rule.when === "never") continue;
      if (rule.when) job.when = rule.when as CiJobDefinition["when"];
      if (rule.startIn) job.startIn = rule.startIn;
      // A manual job made by `rules` blocks the pipeline (allow_failure false) unless the rule says otherwise.
      if (rule.allowFailure !== undefined) job.allowFailure = rule.allowFailure;
      if (rule.interruptible !== undefined) job.interruptible = rule.interruptible;
      if (rule.variables.length > 0) job.variables = [...job.variables, ...rule.variables];
      if (rule.needs)
        job.needs = rule.needs.map((n) => ({ name: n.name, artifacts: n.artifacts, optional: n.optional }));
    } else {
      const only = definition.only ?? (config.workflowRules ? undefined : { refs: ["branches", "tags"] });
      if (only && !policyMatches(only, variables, context, false)) continue;
      if (definition.except && policyMatches(definition.except, variables, context, true)) continue;
    }
    jobs.push(job);
  }
  const present = new Set(jobs.map((j) => j.name));
  for (const job of jobs) {
    if (!job.needs) continue;
    for (const need of job.needs) {
      if (present.has(need.name) || need.optional) continue;
      throw new CiConfigError([
        `'${job.name}' job needs '${need.name}' job, but '${need.name}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`,
      ]);
    }
    job.needs = job.needs.filter((n) => present.has(n.name));
    if (job.dependencies) job.dependencies = job.dependencies.filter((d) => present.has(d));
  }
  if (jobs.length === 0)
    throw new CiConfigError([
      "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.",
    ]);
  return { workflowVariables, jobs: jobs.sort((a, b) => a.stageIndex - b.stageIndex) };
}
