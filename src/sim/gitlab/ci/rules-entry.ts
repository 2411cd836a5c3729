// `rules:`, `workflow:rules:` and `only:`/`except:` entries: validated with GitLab's messages
// (lib/gitlab/ci/config/entry/rules.rb, rules/rule.rb, policy.rb) and normalised for evaluation.

import { parseDuration } from "./duration.ts";
import { arrayOfStrings, type Errors, fault, variables } from "./entry-values.ts";
import { type Hash, isHash } from "./errors.ts";
import { isValidExpression } from "./expression.ts";
import type { CiNeed, CiPolicy, CiRule, JobWhen } from "./types.ts";

export const JOB_RULE_KEYS = [
  "if",
  "changes",
  "exists",
  "when",
  "start_in",
  "allow_failure",
  "variables",
  "needs",
  "interruptible",
];
export const JOB_RULE_WHEN = ["on_success", "on_failure", "always", "never", "manual", "delayed"];
export const WORKFLOW_RULE_KEYS = [
  "if",
  "changes",
  "exists",
  "when",
  "start_in",
  "allow_failure",
  "variables",
  "needs",
  "auto_cancel",
];
export const WORKFLOW_RULE_WHEN = ["always", "never"];

function flattenRules(value: unknown[], level: number): unknown[] | undefined {
  const out: unknown[] = [];
  for (const item of value) {
    if (isHash(item)) out.push(item);
    else if (Array.isArray(item) && level < 10) {
      const inner = flattenRules(item, level + 1);
      if (!inner) return undefined;
      out.push(...inner);
    } else return undefined;
  }
  return out;
}

function paths(value: unknown): string[] | undefined {
  if (arrayOfStrings(value)) return value;
  if (isHash(value) && arrayOfStrings(value.paths)) return value.paths;
  return undefined;
}

export function rulesEntry(
  value: unknown,
  location: string,
  errors: Errors,
  allowedKeys: string[],
  allowedWhen: string[],
  needsOf: (v: unknown, where: string) => CiNeed[] | undefined,
): CiRule[] | undefined {
  if (value === undefined || value === null) return undefined;
  const flat = Array.isArray(value) ? flattenRules(value, 1) : undefined;
  if (!flat) {
    errors.push(
      fault(
        location.replace(/:rules$/, ""),
        "rules should be an array containing hashes and arrays of hashes",
      ),
    );
    return undefined;
  }
  const where = `${location}:rule`;
  return (flat as Hash[]).map((rule) => {
    const unknown = Object.keys(rule).filter((k) => !allowedKeys.includes(k));
    const delayed = rule.when === "delayed";
    if (Object.keys(rule).length === 0) errors.push(fault(where, "config can't be blank"));
    if (!delayed && rule.start_in !== undefined)
      errors.push(fault(where, "config contains disallowed keys: start_in"));
    if (delayed && rule.start_in === undefined) errors.push(fault(where, "start in can't be blank"));
    if (delayed && typeof rule.start_in === "string" && parseDuration(rule.start_in) === undefined)
      errors.push(fault(where, "start in should be a duration"));
    if (rule.if !== undefined && !isValidExpression(rule.if))
      errors.push(fault(where, "if invalid expression syntax"));
    if (rule.exists !== undefined && !paths(rule.exists) && typeof rule.exists !== "string")
      errors.push(fault(where, "exists should be an array of strings"));
    if (rule.allow_failure !== undefined && typeof rule.allow_failure !== "boolean")
      errors.push(fault(where, "allow failure should be a boolean value"));
    if (rule.interruptible !== undefined && typeof rule.interruptible !== "boolean")
      errors.push(fault(where, "interruptible should be a boolean value"));
    if (rule.changes !== undefined && !paths(rule.changes))
      errors.push(fault(`${where}:changes`, "config should be an array of strings"));
    if (rule.when !== undefined && !allowedWhen.includes(String(rule.when)))
      errors.push(fault(where, `when unknown value: ${String(rule.when)}`));
    if (unknown.length > 0) errors.push(fault(where, `config contains unknown keys: ${unknown.join(", ")}`));
    const out: CiRule = { variables: variables(rule.variables, `${where}:variables`, errors) };
    if (typeof rule.if === "string") out.if = rule.if;
    const changes = paths(rule.changes);
    if (changes) out.changes = changes;
    const exists = typeof rule.exists === "string" ? [rule.exists] : paths(rule.exists);
    if (exists) out.exists = exists;
    if (typeof rule.when === "string" && allowedWhen.includes(rule.when)) out.when = rule.when as JobWhen;
    if (typeof rule.start_in === "string") out.startIn = rule.start_in;
    if (typeof rule.allow_failure === "boolean") out.allowFailure = rule.allow_failure;
    if (typeof rule.interruptible === "boolean") out.interruptible = rule.interruptible;
    if (rule.needs !== undefined) out.needs = needsOf(rule.needs, `${where}:needs`);
    return out;
  });
}

const POLICY_KEYS = ["refs", "kubernetes", "variables", "changes"];

/** only:/except: as a list of refs or a hash of refs, variables, changes, kubernetes. */
export function policyEntry(value: unknown, location: string, errors: Errors): CiPolicy | undefined {
  if (value === undefined || value === null) return undefined;
  if (arrayOfStrings(value)) return { refs: value };
  if (typeof value === "string") return { refs: [value] };
  if (!isHash(value)) {
    errors.push(
      fault(location, "config should be an array of strings or regular expressions using re2 syntax"),
    );
    return undefined;
  }
  const unknown = Object.keys(value).filter((k) => !POLICY_KEYS.includes(k));
  if (unknown.length > 0) errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
  const out: CiPolicy = {};
  if (value.refs !== undefined) {
    if (arrayOfStrings(value.refs)) out.refs = value.refs;
    else
      errors.push(
        fault(location, "refs should be an array of strings or regular expressions using re2 syntax"),
      );
  }
  if (value.variables !== undefined) {
    if (arrayOfStrings(value.variables) && value.variables.every(isValidExpression))
      out.variables = value.variables;
    else errors.push(fault(location, "variables invalid expression syntax"));
  }
  if (value.changes !== undefined) {
    const changes = paths(value.changes);
    if (changes) out.changes = changes;
    else errors.push(fault(location, "changes should be an array of strings"));
  }
  if (value.kubernetes !== undefined) {
    if (value.kubernetes === "active") out.kubernetes = "active";
    else errors.push(fault(location, "kubernetes unknown value: " + String(value.kubernetes)));
  }
  return out;
}
