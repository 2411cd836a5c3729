import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { formatError, loadDevfile } from "../devfile/index.ts";
import { UsageError } from "../util/errors.ts";
import type { LoadedScenario } from "./run.ts";
import { loadScenarioOrDevfile } from "./scenario.ts";

export const DEFAULT_SCENARIO_DIR = "scenarios";

/** The default set: every scenarios/*.yaml (not the devfiles folder). */
export async function defaultScenarioFiles(dir = DEFAULT_SCENARIO_DIR): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => {
    throw new UsageError(`no scenario folder ${dir}: pass scenario files or devfiles to run`);
  });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

function firstErrors(errors: Parameters<typeof formatError>[0][], max = 3): string {
  const shown = errors.slice(0, max).map(formatError).join("; ");
  return errors.length > max ? `${shown} (+${errors.length - max} more)` : shown;
}

/**
 * Loads each scenario and its devfile. The devfile must pass the devfile specification's rules to run
 * at all; the Kubernetes path also applies GitLab's rules, as GitLab does before it creates a workspace.
 */
export async function loadScenarios(
  files: string[],
  variables: Record<string, string> = {},
): Promise<LoadedScenario[]> {
  const loaded: LoadedScenario[] = [];
  const names = new Set<string>();
  for (const file of files) {
    const scenario = await loadScenarioOrDevfile(file);
    if (names.has(scenario.name))
      throw new UsageError(
        `${file}: a scenario named "${scenario.name}" is already loaded; names must be unique`,
      );
    names.add(scenario.name);
    const byDefault = await loadDevfile(scenario.devfile, { variables });
    if (!byDefault.ok) {
      const reason = `the devfile is invalid: ${firstErrors(byDefault.errors)}`;
      loaded.push({
        scenario,
        rejected: { kubernetes: reason, ci: reason },
        gitlabRejects: [],
        adaptations: [],
      });
      continue;
    }
    const byGitlab = await loadDevfile(scenario.devfile, { rules: "gitlab", variables });
    loaded.push({
      scenario,
      spec: byDefault.spec,
      rejected: byGitlab.ok
        ? {}
        : { kubernetes: `GitLab rejects this devfile: ${firstErrors(byGitlab.errors)}` },
      gitlabRejects: byGitlab.ok ? [] : byGitlab.errors.map(formatError),
      adaptations: [],
    });
  }
  return loaded;
}
