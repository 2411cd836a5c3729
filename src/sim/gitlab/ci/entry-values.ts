// Validation and normalisation of the entries jobs and `default:` share (image, services, variables,
// scripts, cache, artifacts, retry, timeout), with GitLab's messages: Gitlab::Config::Entry validators
// word them "<location> <attribute> <message>", all lower case (lib/gitlab/config/entry/validators.rb,
// lib/gitlab/ci/config/entry/validator.rb).

import { parseDuration } from "./duration.ts";
import { type Hash, isHash } from "./errors.ts";
import type { CiArtifacts, CiCache, CiImage, CiVariable } from "./types.ts";

export type Errors = string[];

/** One GitLab validation message. */
export const fault = (location: string, text: string) => `${location} ${text}`.toLowerCase();

const MAX_NESTING = 10;

function nestedStrings(value: unknown, level: number): string[] | undefined {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value) || level > MAX_NESTING) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const inner = typeof item === "string" ? [item] : nestedStrings(item, level + 1);
    if (!inner || (typeof item !== "string" && !Array.isArray(item))) return undefined;
    out.push(...inner);
  }
  return out;
}

/** script, before_script, after_script: a string or strings nested up to 10 levels, flattened. */
export function commands(value: unknown, location: string, errors: Errors): string[] {
  if (value === undefined || value === null) return [];
  const flat = nestedStrings(value, 1);
  if (flat) return flat;
  errors.push(fault(location, "config should be a string or a nested array of strings up to 10 levels deep"));
  return [];
}

export function arrayOfStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

export function scalarString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export function variables(value: unknown, location: string, errors: Errors): CiVariable[] {
  if (value === undefined || value === null) return [];
  if (!isHash(value)) {
    errors.push(fault(location, "config should be a hash"));
    return [];
  }
  const out: CiVariable[] = [];
  for (const [key, v] of Object.entries(value)) {
    const scalar = scalarString(v);
    if (scalar !== undefined) out.push({ key, value: scalar, raw: false });
    else if (isHash(v)) {
      const inner = v.value === undefined ? "" : scalarString(v.value);
      if (inner === undefined)
        errors.push(fault(`${location}:${key}`, "config value must be an alphanumeric string"));
      else out.push({ key, value: inner, raw: v.expand === false });
    } else errors.push("variable definition must be either a string or a hash");
  }
  return out;
}

const IMAGE_KEYS = [
  "name",
  "entrypoint",
  "command",
  "alias",
  "variables",
  "docker",
  "kubernetes",
  "pull_policy",
  "ports",
];

export function image(
  value: unknown,
  location: string,
  errors: Errors,
  isService = false,
): CiImage | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { name: value };
  if (!isHash(value)) {
    errors.push(fault(location, "config should be a hash or a string"));
    return undefined;
  }
  const allowed = isService
    ? IMAGE_KEYS
    : IMAGE_KEYS.filter((k) => !["alias", "command", "variables"].includes(k));
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
  if (typeof value.name !== "string") {
    errors.push(fault(location, "config name can't be blank"));
    return undefined;
  }
  const out: CiImage = { name: value.name };
  const stringList = (v: unknown, key: string) => {
    if (arrayOfStrings(v)) return v;
    if (typeof v === "string") return [v];
    errors.push(fault(location, `${key} should be an array of strings`));
    return undefined;
  };
  if (value.entrypoint !== undefined) out.entrypoint = stringList(value.entrypoint, "entrypoint");
  if (value.command !== undefined) out.command = stringList(value.command, "command");
  if (typeof value.alias === "string") out.alias = value.alias;
  if (value.variables !== undefined)
    out.variables = variables(value.variables, `${location}:variables`, errors);
  if (value.pull_policy !== undefined) out.pullPolicy = stringList(value.pull_policy, "pull_policy");
  if (isHash(value.docker)) {
    if (typeof value.docker.platform === "string") out.platform = value.docker.platform;
    if (typeof value.docker.user === "string") out.user = value.docker.user;
  }
  return out;
}

export function services(value: unknown, location: string, errors: Errors): CiImage[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(fault(location, "config should be an array"));
    return [];
  }
  return value.flatMap((s) => image(s, `${location}:service`, errors, true) ?? []);
}

const CACHE_KEYS = ["key", "untracked", "paths", "when", "policy", "unprotect", "fallback_keys"];
const WHEN_ARTIFACTS = ["on_success", "on_failure", "always"];

export function caches(value: unknown, location: string, errors: Errors): CiCache[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  if (items.length > 4) errors.push(fault(location, "config no more than 4 caches can be created"));
  return items.flatMap((item) => {
    if (!isHash(item)) {
      errors.push(fault(location, "config should be a hash"));
      return [];
    }
    const unknown = Object.keys(item).filter((k) => !CACHE_KEYS.includes(k));
    if (unknown.length > 0)
      errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
    let key = "default";
    if (typeof item.key === "string" || typeof item.key === "number") key = String(item.key);
    else if (isHash(item.key)) {
      const files = item.key.files;
      if (!arrayOfStrings(files))
        errors.push(fault(`${location}:key:files`, "config should be an array of strings"));
      else if (files.length === 0)
        errors.push(fault(`${location}:key:files`, "config requires at least 1 item"));
      key = `${typeof item.key.prefix === "string" ? `${item.key.prefix}-` : ""}${(files as string[] | undefined)?.join("-") ?? "default"}`;
    } else if (item.key !== undefined)
      errors.push(fault(`${location}:key`, "should be a hash, a string or a symbol"));
    if (item.paths !== undefined && !arrayOfStrings(item.paths))
      errors.push(fault(`${location}:paths`, "config should be an array of strings"));
    if (item.untracked !== undefined && typeof item.untracked !== "boolean")
      errors.push(fault(`${location}:untracked`, "config should be a boolean value"));
    const when = (item.when as string | undefined) ?? "on_success";
    if (!WHEN_ARTIFACTS.includes(when))
      errors.push(fault(`${location}:when`, "config should be one of on_success, on_failure or always"));
    const policy = (item.policy as string | undefined) ?? "pull-push";
    if (!["pull", "push", "pull-push"].includes(policy) && !policy.includes("$"))
      errors.push(fault(`${location}:policy`, "config should be one of: pull-push, push, pull"));
    return [
      {
        key,
        paths: arrayOfStrings(item.paths) ? item.paths : [],
        when: when as CiCache["when"],
        policy,
        untracked: item.untracked === true,
        fallbackKeys: arrayOfStrings(item.fallback_keys) ? item.fallback_keys : [],
      },
    ];
  });
}

const ARTIFACTS_KEYS = [
  "name",
  "untracked",
  "paths",
  "reports",
  "when",
  "expire_in",
  "expose_as",
  "exclude",
  "public",
  "access",
];

export function artifacts(value: unknown, location: string, errors: Errors): CiArtifacts | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isHash(value)) {
    errors.push(fault(location, "config should be a hash"));
    return undefined;
  }
  const unknown = Object.keys(value).filter((k) => !ARTIFACTS_KEYS.includes(k));
  if (unknown.length > 0) errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
  if (value.name !== undefined && typeof value.name !== "string")
    errors.push(fault(location, "name should be a string"));
  if (value.untracked !== undefined && typeof value.untracked !== "boolean")
    errors.push(fault(location, "untracked should be a boolean value"));
  if (value.paths !== undefined && !arrayOfStrings(value.paths))
    errors.push(fault(location, "paths should be an array of strings"));
  if (value.exclude !== undefined && !arrayOfStrings(value.exclude))
    errors.push(fault(location, "exclude should be an array of strings"));
  if (value.when !== undefined && !WHEN_ARTIFACTS.includes(String(value.when)))
    errors.push(fault(location, "when should be one of: on_success, on_failure, always"));
  if (value.expire_in !== undefined) {
    const text = typeof value.expire_in === "string" ? value.expire_in : undefined;
    if (text === undefined || (text !== "never" && parseDuration(text) === undefined))
      errors.push(fault(location, "expire in should be a duration"));
  }
  const reports: Record<string, string[]> = {};
  if (value.reports !== undefined) {
    if (!isHash(value.reports)) errors.push(fault(`${location}:reports`, "config should be a hash"));
    else
      for (const [type, paths] of Object.entries(value.reports)) {
        if (typeof paths === "string") reports[type] = [paths];
        else if (arrayOfStrings(paths)) reports[type] = paths;
        else if (type !== "coverage_report")
          errors.push(fault(`${location}:reports`, `${type} should be an array of strings or a string`));
      }
  }
  return {
    ...(typeof value.name === "string" ? { name: value.name } : {}),
    paths: arrayOfStrings(value.paths) ? value.paths : [],
    exclude: arrayOfStrings(value.exclude) ? value.exclude : [],
    untracked: value.untracked === true,
    when: (WHEN_ARTIFACTS.includes(String(value.when)) ? value.when : "on_success") as CiArtifacts["when"],
    ...(typeof value.expire_in === "string" ? { expireIn: value.expire_in } : {}),
    ...(typeof value.expose_as === "string" ? { exposeAs: value.expose_as } : {}),
    reports,
  };
}

export function timeout(value: unknown, location: string, errors: Errors): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = typeof value === "string" ? parseDuration(value) : undefined;
  if (seconds === undefined) errors.push(fault(location, "config should be a duration"));
  return seconds;
}

/** retry: 0..2 or {max, when, exit_codes} (lib/gitlab/ci/config/entry/retry.rb). */
export function retry(
  value: unknown,
  location: string,
  errors: Errors,
  reasons: readonly string[],
): { max: number; when: string[]; exitCodes: number[] } {
  const none = { max: 0, when: ["always"], exitCodes: [] };
  if (value === undefined || value === null) return none;
  const inRange = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 2;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) errors.push(fault(location, "config must be an integer"));
    else if (value < 0) errors.push(fault(location, "config must be greater than or equal to 0"));
    else if (value > 2) errors.push(fault(location, "config must be less than or equal to 2"));
    return inRange(value) ? { ...none, max: value } : none;
  }
  if (!isHash(value)) {
    errors.push(fault(location, "config has to be either an integer or a hash"));
    return none;
  }
  const unknown = Object.keys(value).filter((k) => !["max", "when", "exit_codes"].includes(k));
  if (unknown.length > 0) errors.push(fault(location, `config contains unknown keys: ${unknown.join(", ")}`));
  if (value.max !== undefined && !inRange(value.max)) {
    if (!Number.isInteger(value.max)) errors.push(fault(location, "max must be an integer"));
    else if ((value.max as number) < 0)
      errors.push(fault(location, "max must be greater than or equal to 0"));
    else errors.push(fault(location, "max must be less than or equal to 2"));
  }
  const allowedWhen = [...reasons, "always"];
  const when =
    typeof value.when === "string" ? [value.when] : arrayOfStrings(value.when) ? value.when : ["always"];
  if (value.when !== undefined && typeof value.when !== "string" && !arrayOfStrings(value.when))
    errors.push(fault(location, "when should be an array of strings or a string"));
  else if (typeof value.when === "string" && !allowedWhen.includes(value.when))
    errors.push(fault(location, "when is not included in the list"));
  else if (Array.isArray(value.when)) {
    const bad = when.filter((w) => !allowedWhen.includes(w));
    if (bad.length > 0) errors.push(fault(location, `when contains unknown values: ${bad.join(", ")}`));
  }
  const codes = value.exit_codes;
  const exitCodes = Number.isInteger(codes)
    ? [codes as number]
    : Array.isArray(codes)
      ? codes.filter(Number.isInteger)
      : [];
  if (
    codes !== undefined &&
    !Number.isInteger(codes) &&
    !(Array.isArray(codes) && codes.every(Number.isInteger))
  )
    errors.push(fault(location, "exit codes should be an array of integers or an integer"));
  return { max: inRange(value.max) ? (value.max as number) : 0, when, exitCodes };
}
