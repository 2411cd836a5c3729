import type { Arch, Executor, Tier, WorkspacePath } from "../report/model.ts";
import { type Scenario, TIER_DEFAULTS } from "./scenario.ts";

export interface PlannedCell {
  scenario: Scenario;
  path: WorkspacePath;
  executor: Executor | null;
  arch: Arch;
  /** Set when the cell cannot run on this tier; it is reported skipped with this reason. */
  skip?: string;
}

export interface MatrixOverrides {
  paths?: WorkspacePath[];
  executors?: Executor[];
  arch?: Arch[];
}

/** What this tier can run, as a reason when it cannot. */
function tierLimit(
  tier: Tier,
  path: WorkspacePath,
  executor: Executor | null,
  arch: Arch,
): string | undefined {
  if (tier === "sim") {
    if (arch === "arm64")
      return "the sim tier runs workspaces as local processes on the host's architecture; arm64 needs the docker tier (QEMU)";
    if (executor === "docker")
      return "the docker executor runs containers; the sim tier has none (use --tier docker)";
  }
  if (executor === "shell" && arch !== "amd64")
    return "the shell executor runs on the runner host's own architecture (amd64)";
  if (path === "kubernetes" && executor !== null) return "the Kubernetes path has no executor";
  return undefined;
}

/** Cells in a stable order: per scenario, Kubernetes (the reference) first, then CI executors, each per arch. */
export function expandMatrix(
  scenarios: readonly Scenario[],
  tier: Tier,
  overrides: MatrixOverrides = {},
): PlannedCell[] {
  const defaults = TIER_DEFAULTS[tier];
  const cells: PlannedCell[] = [];
  for (const scenario of scenarios) {
    const paths = overrides.paths ?? scenario.matrix.paths ?? defaults.paths;
    const executors = overrides.executors ?? scenario.matrix.executors ?? defaults.executors;
    const arches = overrides.arch ?? scenario.matrix.arch ?? defaults.arch;
    for (const path of ["kubernetes", "ci"] as const) {
      if (!paths.includes(path)) continue;
      for (const executor of path === "kubernetes" ? [null] : executors) {
        for (const arch of arches) {
          const skip = tierLimit(tier, path, executor, arch);
          cells.push({ scenario, path, executor, arch, ...(skip ? { skip } : {}) });
        }
      }
    }
  }
  return cells;
}
