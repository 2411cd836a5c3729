// ActiveSupport's Hash#deep_merge, which GitLab uses for `include` and `extends`: hashes merge key by key,
// recursively; anything else (arrays included) in the later hash replaces the earlier value.

import { type Hash, isHash } from "./errors.ts";

export function deepMerge(base: Hash, over: Hash): Hash {
  const out: Hash = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isHash(current) && isHash(value) ? deepMerge(current, value) : value;
  }
  return out;
}
