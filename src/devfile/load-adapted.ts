import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { adaptForGitlab, type GitlabAdaptResult } from "./adapt-gitlab.ts";
import { type DevfileResult, type LoadOptions, loadDevfile, parseDevfileText } from "./load.ts";
import { parseSource } from "./source.ts";

export interface AdaptedDevfile {
  /** The adapted devfile as YAML, for the record. */
  text?: string;
  changes: GitlabAdaptResult["changes"];
  /** Loaded by the devfile specification's rules (what the CI path runs). */
  byDefault: DevfileResult;
  /** Loaded by GitLab's rules too (what the Kubernetes path runs): errors are what adapting could not fix. */
  byGitlab: DevfileResult;
}

/**
 * Reads a devfile, applies `adaptForGitlab` and loads the result both ways. A devfile that cannot be
 * parsed at all is loaded as it is, so its errors name the user's file and lines.
 */
export async function loadAdaptedForGitlab(
  path: string,
  opts: Omit<LoadOptions, "rules"> = {},
): Promise<AdaptedDevfile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    const failed = await loadDevfile(path, opts);
    return { changes: [], byDefault: failed, byGitlab: failed };
  }
  const parsed = parseSource(text, path);
  if (!parsed.ok || typeof parsed.source.value !== "object" || parsed.source.value === null) {
    const failed = await loadDevfile(path, opts);
    return { changes: [], byDefault: failed, byGitlab: failed };
  }
  const adapted = adaptForGitlab(parsed.source.value as Record<string, unknown>);
  const adaptedText = stringify(adapted.devfile, { lineWidth: 0 });
  const name = `${path} (adapted for GitLab)`;
  return {
    text: adaptedText,
    changes: adapted.changes,
    byDefault: await parseDevfileText(adaptedText, name, opts),
    byGitlab: await parseDevfileText(adaptedText, name, { ...opts, rules: "gitlab" }),
  };
}
