// `include:` as GitLab expands it for files of the same project (lib/gitlab/ci/config/external/):
// `include: path`, `include: [paths]`, `include: {local: path}`; included files merge first, in order, and
// the including file deep-merges over them; nested includes are followed up to GitLab's depth of 100 files.
// Other include types (project, remote, template, component) need other sources: they are reported.

import { CiConfigError, type Hash, isHash } from "./errors.ts";
import { deepMerge } from "./merge.ts";
import { loadCiYaml } from "./yaml-load.ts";

/** Reads a file of the pipeline's commit; undefined when it does not exist. */
export type FileReader = (path: string) => string | undefined;

const MAX_INCLUDES = 150;

export function expandIncludes(config: Hash, readFile: FileReader, seen: string[] = []): Hash {
  const include = config.include;
  if (include === undefined || include === null) return config;
  const { include: _, ...rest } = config;
  const entries = Array.isArray(include) ? include : [include];
  let merged: Hash = {};
  for (const entry of entries) {
    const location = localLocation(entry);
    if (seen.includes(location))
      throw new CiConfigError([`Included file \`${location}\` is already included and would cause a loop`]);
    if (seen.length >= MAX_INCLUDES)
      throw new CiConfigError([`Maximum of ${MAX_INCLUDES} nested includes are allowed!`]);
    if (!/\.ya?ml$/.test(location))
      throw new CiConfigError([`Included file \`${location}\` does not have YAML extension!`]);
    const text = readFile(location);
    if (text === undefined) throw new CiConfigError([`Local file \`${location}\` does not exist!`]);
    if (text.trim() === "") throw new CiConfigError([`Local file \`${location}\` is empty!`]);
    const included = expandIncludes(loadCiYaml(text, location), readFile, [...seen, location]);
    merged = deepMerge(merged, included);
  }
  return deepMerge(merged, rest);
}

function localLocation(entry: unknown): string {
  if (typeof entry === "string") {
    if (/^https?:\/\//.test(entry))
      throw new CiConfigError([
        `Remote file \`${entry}\` could not be fetched: the simulator has no network`,
      ]);
    return entry.replace(/^\/+/, "");
  }
  if (isHash(entry) && typeof entry.local === "string") return entry.local.replace(/^\/+/, "");
  if (isHash(entry)) {
    const kind = ["project", "remote", "template", "component", "artifact"].find((k) => k in entry);
    if (kind)
      throw new CiConfigError([`include:${kind} is not served by the GitLab simulator; use include:local`]);
  }
  throw new CiConfigError([
    `Included file \`${JSON.stringify(entry)}\` does not have a valid subkey for include. Valid subkeys are: \`local\`, \`project\`, \`remote\`, \`template\`, \`component\`, \`artifact\``,
  ]);
}
