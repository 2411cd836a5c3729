// `extends:` as GitLab resolves it (lib/gitlab/ci/config/extendable/): each base is itself extended first,
// bases deep-merge in the order listed and the job deep-merges over them; errors are GitLab's:
// unknown keys, invalid base hashes, nesting too deep (more than 10 levels), circular dependency.

import { CiConfigError, type Hash, isHash } from "./errors.ts";
import { deepMerge } from "./merge.ts";

const MAX_NESTING = 10;

export function resolveExtends(config: Hash): Hash {
  const out: Hash = { ...config };
  const done = new Set<string>();
  const extend = (key: string, ancestors: string[]): Hash => {
    const value = out[key] as Hash;
    if (done.has(key) || !isHash(value) || value.extends === undefined) return value;
    const bases = Array.isArray(value.extends) ? value.extends.map(String) : [String(value.extends)];
    const unknown = bases.filter((b) => !(b in out));
    if (unknown.length > 0)
      throw new CiConfigError([`${key}: unknown keys in \`extends\` (${unknown.join(", ")})`]);
    const invalid = bases.filter((b) => !isHash(out[b]));
    if (invalid.length > 0)
      throw new CiConfigError([`${key}: invalid base hashes in \`extends\` (${invalid.join(", ")})`]);
    if (ancestors.length >= MAX_NESTING) throw new CiConfigError([`${key}: nesting too deep in \`extends\``]);
    if (bases.some((b) => b === key || ancestors.includes(b)))
      throw new CiConfigError([`${key}: circular dependency detected in \`extends\``]);
    let merged: Hash = {};
    for (const base of bases) merged = deepMerge(merged, extend(base, [...ancestors, key]));
    out[key] = deepMerge(merged, value);
    done.add(key);
    return out[key] as Hash;
  };
  for (const [key, value] of Object.entries(out)) {
    if (isHash(value) && value.extends !== undefined) {
      const ok =
        typeof value.extends === "string" ||
        (Array.isArray(value.extends) && value.extends.every((e) => typeof e === "string"));
      if (ok) extend(key, []);
    }
  }
  return out;
}
