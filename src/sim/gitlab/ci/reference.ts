// `!reference [a, b, …]` as GitLab resolves it (lib/gitlab/ci/config/yaml/tags/): the value at that path of
// the merged config, itself resolved (up to 10 levels); "… could not be found" when the path leads
// nowhere, "… is part of a circular chain" when a reference reaches itself.

import { CiConfigError, isHash } from "./errors.ts";
import { Reference } from "./yaml-load.ts";

const MAX_DEPTH = 10;

export function resolveReferences<T>(config: T): T {
  const root = config as unknown;
  const resolve = (value: unknown, chain: Reference[]): unknown => {
    if (value instanceof Reference) {
      if (!value.path.every((p) => typeof p === "string") || value.path.length === 0)
        throw new CiConfigError([`${value} is invalid`]);
      if (chain.some((r) => String(r) === String(value)) || chain.length >= MAX_DEPTH)
        throw new CiConfigError([`${value} is part of a circular chain`]);
      let target: unknown = root;
      for (const step of value.path as string[]) {
        target = isHash(target) ? target[step] : undefined;
      }
      const resolved = resolve(target, [...chain, value]);
      if (resolved === undefined || resolved === null)
        throw new CiConfigError([`${value} could not be found`]);
      return resolved;
    }
    if (Array.isArray(value)) return value.map((v) => resolve(v, chain));
    if (isHash(value))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, chain)]));
    return value;
  };
  return resolve(root, []) as T;
}
