import type { WorkspaceSpec } from "../../devfile/spec.ts";

/** The workspace's data folder as the main container sees it: $PROJECTS_ROOT, GitLab's /projects. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a JS template
export const DATA_DIR = '"${PROJECTS_ROOT:-/projects}"';

/** Devfile volumes mounted in the main container, with their mount paths. */
export function mainVolumeMounts(
  spec: WorkspaceSpec,
  ephemeral: boolean,
): { volume: string; path: string }[] {
  const main = spec.containers.find((c) => c.main);
  if (!main) return [];
  const kinds = new Map(spec.volumes.map((v) => [v.name, v.ephemeral]));
  return main.volumeMounts
    .filter((m) => kinds.get(m.name) === ephemeral)
    .map((m) => ({ volume: m.name, path: m.path }));
}
