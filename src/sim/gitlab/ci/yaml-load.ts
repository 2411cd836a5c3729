// Reads CI YAML as GitLab's loader does (lib/gitlab/ci/config/yaml/): `!reference [path…]` is a custom
// tag kept as a Reference until the whole config (includes and extends merged) is known; a document
// that is not a mapping is "Invalid configuration format"; a syntax error keeps the parser's wording.

import { isScalar, parse, type YAMLSeq } from "yaml";
import { CiConfigError, type Hash, isHash } from "./errors.ts";

/** A `!reference [job, key, …]` not yet resolved. */
export class Reference {
  constructor(readonly path: unknown[]) {}

  /** How GitLab prints the tag in its errors: Ruby's Array#inspect of the path. */
  toString(): string {
    return `!reference [${this.path.map((p) => JSON.stringify(String(p))).join(", ")}]`;
  }
}

const referenceTag = {
  tag: "!reference",
  collection: "seq" as const,
  identify: (value: unknown) => value instanceof Reference,
  resolve: (seq: YAMLSeq) => new Reference(seq.items.map((item) => (isScalar(item) ? item.value : item))),
};

/** Parses one CI YAML file into a hash; CiConfigError with GitLab's wording when it cannot. */
export function loadCiYaml(text: string, location = ".gitlab-ci.yml"): Hash {
  if (text.trim() === "") throw new CiConfigError(["Please provide content of .gitlab-ci.yml"]);
  let document: unknown;
  try {
    document = parse(text, { customTags: [referenceTag], logLevel: "error", maxAliasCount: 1000 });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    throw new CiConfigError([`(${location}): ${message}`]);
  }
  if (!isHash(document)) throw new CiConfigError(["Invalid configuration format"]);
  return document;
}
