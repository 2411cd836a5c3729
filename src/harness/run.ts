import { cpus, arch as hostArch, hostname, release, totalmem } from "node:os";
import { isAbsolute, relative } from "node:path";
import type { WorkspaceSpec } from "../devfile/spec.ts";
import { buildReport } from "../report/build.ts";
import { scenarioFindings } from "../report/findings.ts";
import type {
  Adaptation,
  Arch,
  Cell,
  Executor,
  Report,
  ScenarioSummary,
  Tier,
  TunnelFigures,
} from "../report/model.ts";
import { cellLabel } from "../report/model.ts";
import { writeReports } from "../report/write.ts";
import { CATALOG_VERSION } from "./catalog.ts";
import { expandMatrix, type MatrixOverrides, type PlannedCell } from "./matrix.ts";
import { PROBES } from "./probes/index.ts";
import type { Progress } from "./progress.ts";
import { runCell } from "./run-cell.ts";
import type { Scenario } from "./scenario.ts";
import { formatShard, type Shard, shardCells } from "./shard.ts";
import type { PathProvisioner } from "./workspace.ts";

/** A tier's provisioners, started once per run and torn down at its end, whatever happens. */
export interface TierSetup {
  tier: Tier;
  provisioner(path: "kubernetes" | "ci", arch: Arch): PathProvisioner;
  /** Why this tier has nothing to run a cell on (no runner for that executor), or undefined. */
  cannotRun?(path: "kubernetes" | "ci", executor: Executor | null, arch: Arch): string | undefined;
  /** Why no cell can run on this tier at all (e.g. its Docker engine does not answer): each is an error. */
  broken?: string;
  /** What the report should say about the tier (versions, image map, what it simulates). */
  environment(): Record<string, unknown>;
  close(): Promise<void>;
}

export interface LoadedScenario {
  scenario: Scenario;
  spec?: WorkspaceSpec;
  /** The devfile as the workspace runs it (flattened, variables substituted, adapted when asked). */
  devfile?: Record<string, unknown>;
  /** Why the devfile cannot be run on a path (e.g. GitLab's rules reject it), per path. */
  rejected: Partial<Record<"kubernetes" | "ci", string>>;
  /** GitLab's messages for the devfile as run (empty when GitLab accepts it). */
  gitlabRejects: string[];
  /** What `--adapt gitlab` changed before the run. */
  adaptations: Adaptation[];
}

export interface RunOptions {
  scenarios: LoadedScenario[];
  setup: TierSetup;
  overrides: MatrixOverrides;
  outDir: string;
  progress: Progress;
  signal: AbortSignal;
  runId: string;
  /** Run only this slice of the matrix (`--shard i/n`). */
  shard?: Shard;
}

function unrunnable(planned: PlannedCell, status: "skipped" | "error", reason: string): Cell {
  return {
    scenario: planned.scenario.name,
    path: planned.path,
    executor: planned.executor,
    arch: planned.arch,
    status,
    reason,
    startupMs: null,
    features:
      status === "error"
        ? planned.scenario.probes.map((id) => ({
            id,
            status: "error" as const,
            evidence: reason,
            durationMs: 0,
          }))
        : [],
  };
}

/**
 * The devfile as the run was given it: relative to the working folder when inside it, so the parts of a
 * nightly run in different checkouts (each job its own build folder) name the same devfile alike.
 */
function devfileShown(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
}

/** GitLab's verdict on the devfile, the adaptations, and a CI path that ran what GitLab refuses. */
function scenarioSummary(loaded: LoadedScenario, cells: readonly Cell[]): ScenarioSummary {
  const name = loaded.scenario.name;
  return {
    name,
    devfile: devfileShown(loaded.scenario.devfile),
    gitlabRejects: loaded.gitlabRejects,
    adaptations: loaded.adaptations,
    findings: scenarioFindings(name, loaded.gitlabRejects, cells),
  };
}

/**
 * Runs every cell in order (Kubernetes first per scenario, so CI cells are measured against it),
 * writing the reports after each cell so that a crash or Ctrl-C still leaves what finished.
 */
export async function runScenarios(options: RunOptions): Promise<Report> {
  const { setup, progress, signal } = options;
  const startedAt = new Date();
  const loaded = new Map(options.scenarios.map((s) => [s.scenario.name, s]));
  const matrix = expandMatrix(
    options.scenarios.map((s) => s.scenario),
    setup.tier,
    options.overrides,
  );
  const planned = options.shard ? shardCells(matrix, options.shard) : matrix;
  // What `wsparity merge` checks parts against: the whole matrix, the slice run here, the catalog.
  const matrixInfo = {
    cells: matrix.map((c) => cellLabel({ ...c, scenario: c.scenario.name })),
    shard: options.shard ? formatShard(options.shard) : null,
    catalog: CATALOG_VERSION,
  };
  progress.runStarted(planned, setup.tier, options.outDir);
  const cells: Cell[] = [];
  const references = new Map<string, TunnelFigures>();
  const environment = () => ({
    host: {
      arch: hostArch(),
      cpus: cpus().length,
      memoryBytes: totalmem(),
      kernel: release(),
      hostname: hostname(),
    },
    node: process.version,
    ...setup.environment(),
    matrix: matrixInfo,
  });
  const snapshot = (finishedAt: Date) =>
    buildReport({
      runId: options.runId,
      startedAt,
      finishedAt,
      tier: setup.tier,
      environment: environment(),
      cells: [...cells],
      scenarios: options.scenarios.map((s) => scenarioSummary(s, cells)),
    });

  for (const [index, cell] of planned.entries()) {
    progress.cellStarted(cell, index, planned.length);
    const entry = loaded.get(cell.scenario.name)!;
    let result: Cell;
    if (signal.aborted) result = unrunnable(cell, "skipped", "interrupted before this cell started");
    else if (cell.skip) result = unrunnable(cell, "skipped", cell.skip);
    else if (setup.broken) result = unrunnable(cell, "error", setup.broken);
    else if (setup.cannotRun?.(cell.path, cell.executor, cell.arch)) {
      result = unrunnable(cell, "skipped", setup.cannotRun(cell.path, cell.executor, cell.arch)!);
    } else if (!entry.spec || entry.rejected[cell.path]) {
      result = unrunnable(cell, "error", entry.rejected[cell.path] ?? "the devfile could not be loaded");
    } else {
      const refKey = `${cell.scenario.name}/${cell.arch}`;
      const run = await runCell(
        {
          tier: setup.tier,
          path: cell.path,
          executor: cell.executor,
          arch: cell.arch,
          scenario: cell.scenario,
          spec: entry.spec,
          devfile: entry.devfile ?? {},
        },
        setup.provisioner(cell.path, cell.arch),
        PROBES,
        cell.path === "ci"
          ? (references.get(refKey) ?? references.get(`${cell.scenario.name}/amd64`))
          : undefined,
        { probeDone: (_ctx, r) => progress.probeDone(cell, r) },
        signal,
      );
      if (cell.path === "kubernetes" && run.figures) references.set(refKey, run.figures);
      result = run.cell;
    }
    cells.push(result);
    progress.cellDone(result, index, planned.length);
    await writeReports(options.outDir, snapshot(new Date()));
  }
  const report = snapshot(new Date());
  await writeReports(options.outDir, report);
  return report;
}
