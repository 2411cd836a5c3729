import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { whyUnadaptable } from "../devfile/adapt-gitlab.ts";
import { formatError, loadDevfile } from "../devfile/index.ts";
import { loadAdaptedForGitlab } from "../devfile/load-adapted.ts";
import { UsageError } from "../util/errors.ts";
import type { LoadedScenario } from "./run.ts";
import { loadScenarioOrDevfile, type Scenario } from "./scenario.ts";

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
 * Adapted for GitLab, both paths run the adapted devfile.
 */
export async function loadScenarios(
  files: string[],
  variables: Record<string, string> = {},
  /** Adapt every devfile for GitLab (run --adapt gitlab); a scenario can ask for it with `adapt: gitlab`. */
  adapt?: "gitlab",
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
    loaded.push(await loadOne(scenario, variables, adapt ?? scenario.adapt));
  }
  return loaded;
}

async function loadOne(
  scenario: Scenario,
  variables: Record<string, string>,
  adapt: "gitlab" | undefined,
): Promise<LoadedScenario> {
  const adapted =
    adapt === "gitlab" ? await loadAdaptedForGitlab(scenario.devfile, { variables }) : undefined;
  const byDefault = adapted?.byDefault ?? (await loadDevfile(scenario.devfile, { variables }));
  const adaptations = adapted?.changes ?? [];
  if (!byDefault.ok) {
    const reason = `the devfile${adapted ? " (adapted for GitLab)" : ""} is invalid: ${firstErrors(byDefault.errors)}`;
    return { scenario, rejected: { kubernetes: reason, ci: reason }, gitlabRejects: [], adaptations };
  }
  const byGitlab = adapted?.byGitlab ?? (await loadDevfile(scenario.devfile, { rules: "gitlab", variables }));
  const rejects = `GitLab rejects this devfile${adapted ? " even adapted (what --adapt gitlab does not change)" : ""}`;
  return {
    scenario,
    spec: byDefault.spec,
    // What the Kubernetes path commits for GitLab to read: flattened, variables substituted, adapted if asked.
    devfile: byGitlab.ok ? byGitlab.devfile : byDefault.devfile,
    rejected: byGitlab.ok ? {} : { kubernetes: `${rejects}: ${firstErrors(byGitlab.errors)}` },
    gitlabRejects: byGitlab.ok
      ? []
      : byGitlab.errors.map((e) => {
          const why = adapted ? whyUnadaptable(e.message) : undefined;
          return why ? `${formatError(e)} (not adapted: ${why})` : formatError(e);
        }),
    adaptations,
  };
}
