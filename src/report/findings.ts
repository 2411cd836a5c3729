import type { Cell } from "./model.ts";

/** What the paths did with a scenario's devfile that no feature row shows: the CI path running what GitLab refuses. */
export function scenarioFindings(
  scenario: string,
  gitlabRejects: readonly string[],
  cells: readonly Cell[],
): string[] {
  const ranOnCi = cells.filter(
    (c) =>
      c.scenario === scenario &&
      c.path === "ci" &&
      c.startupMs !== null &&
      c.status !== "skipped" &&
      c.status !== "environment",
  );
  return gitlabRejects.length > 0 && ranOnCi.length > 0
    ? [
        `the CI path started this devfile on ${ranOnCi.length} cell(s) although GitLab rejects it (${gitlabRejects.length} rule(s) broken): it does not apply GitLab's devfile rules`,
      ]
    : [];
}
