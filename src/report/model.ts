// The one result model every reporter, compare and gate reads (report.json, docs/DESIGN.md).

// 1.1.0: feature status `inconclusive` (with `reason`), a payload `outcome`, gap `detail`, the
// report's `scenarios` and the summary's comparability counts; a 1.0.0 report still reads.
// 1.2.0: cell status `environment` (GitLab's words in `reason`; never a gap).
export const REPORT_SCHEMA_VERSION = "1.2.0";

export type Tier = "sim" | "docker" | "live";
export type WorkspacePath = "kubernetes" | "ci";
export type Executor = "shell" | "docker" | "kubernetes";
export type Arch = "amd64" | "arm64";
/** `environment`: the cell could not start for a reason of the environment (licence, agent, runner, mapping). */
export type CellStatus = "passed" | "failed" | "error" | "skipped" | "environment";
export type FeatureStatus =
  | "supported"
  | "unsupported"
  | "degraded"
  | "inconclusive"
  | "not-applicable"
  | "error";

export const FEATURE_STATUSES: readonly FeatureStatus[] = [
  "supported",
  "unsupported",
  "degraded",
  "inconclusive",
  "not-applicable",
  "error",
];
export type GapSeverity = "critical" | "major" | "minor";

export interface FeatureResult {
  id: string;
  status: FeatureStatus;
  /** What the probe observed, so a reader can check the verdict. */
  evidence: string;
  durationMs: number;
  /**
   * Why the probe could not check the feature (status `inconclusive`): a cause that is not the
   * feature, e.g. a substituted image that cannot run the devfile's server, or missing project sources.
   */
  reason?: string;
  /**
   * What the devfile's own payload did (exit code and output), where that payload decides the
   * outcome: the paths are judged on having observed the same, not on success.
   */
  outcome?: string;
}

export interface LatencyFigures {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export interface ThroughputFigures {
  download: number;
  upload: number;
}

export interface TunnelFigures {
  latencyUs: LatencyFigures;
  throughputMBps: ThroughputFigures;
}

export interface CellTunnelMetrics extends TunnelFigures {
  /** The same figures measured against the Kubernetes path's proxy (or direct) in the same run. */
  baseline: TunnelFigures;
  /** This cell's figure divided by the baseline's, per field. */
  ratio: TunnelFigures;
}

export interface Cell {
  scenario: string;
  path: WorkspacePath;
  executor: Executor | null;
  arch: Arch;
  status: CellStatus;
  reason?: string;
  startupMs: number | null;
  features: FeatureResult[];
  tunnel?: CellTunnelMetrics;
}

export interface Gap {
  feature: string;
  scenario: string;
  /** The Kubernetes path's status for this feature: the reference. */
  reference: FeatureStatus;
  /** CI cells' statuses, keyed "<executor>/<arch>". */
  observed: Record<string, FeatureStatus>;
  severity: GapSeverity;
  /** What differed when the statuses alone do not show it (the payload's outcome on each path). */
  detail?: string;
}

/** One change `--adapt gitlab` made to a devfile so that GitLab accepts it. */
export interface Adaptation {
  /** JSON pointer of what changed in the devfile. */
  pointer: string;
  change: string;
  /** The GitLab rule the change satisfies. */
  rule: string;
}

export interface ScenarioSummary {
  name: string;
  devfile: string;
  /** GitLab's messages for the devfile as run on both paths; empty when GitLab accepts it. */
  gitlabRejects: string[];
  /** The changes made before the run (scenario `adapt: gitlab` or `run --adapt gitlab`). */
  adaptations: Adaptation[];
  /** What the paths did that no feature row shows, e.g. the CI path accepting a devfile GitLab rejects. */
  findings: string[];
}

export type StatusCounts = Record<FeatureStatus, number>;
export interface Summary {
  cells: number;
  features: number;
  gaps: number;
  /** (CI cell × feature) pairs the reference supports and the CI cell could show: parityPct's denominator. */
  compared: number;
  /**
   * Share of (CI cell × feature) pairs, among those the reference supports and the CI cell reached a
   * verdict on (inconclusive and not-applicable pairs are left out), that match.
   */
  parityPct: number;
  /** (CI cell × feature) pairs where both paths reached a verdict: the checks a gap can come from. */
  comparable: number;
  /** (CI cell × feature) pairs left out because a path could not check the feature (`inconclusive`). */
  inconclusive: number;
  /** Why pairs were not comparable, most pairs first, e.g. "GitLab rejects 3 of 3 devfiles". */
  notComparable: string[];
  /** Feature results per path and status. */
  byPath: Record<WorkspacePath, StatusCounts>;
}

/** A rollout flag's value: on or off for everyone, or on for a percentage of actors. */
export type FlagValue = boolean | number;

/** What `gate --apply-flag` did to GitLab's feature flag. */
export interface RolloutRecord {
  flag: string;
  gitlab: string;
  /** The highest stage the report reaches (null: none). */
  stage: string | null;
  desired: FlagValue;
  before: FlagValue;
  after: FlagValue;
  /** False for a dry run or when the flag already had the stage's value. */
  applied: boolean;
  at: string;
}

export interface Report {
  schemaVersion: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  tier: Tier;
  environment: Record<string, unknown>;
  cells: Cell[];
  gaps: Gap[];
  /** Per scenario: GitLab's verdict on its devfile, the adaptations made, findings. */
  scenarios: ScenarioSummary[];
  summary: Summary;
  rollout?: RolloutRecord;
}

export function cellKey(cell: Pick<Cell, "executor" | "arch">): string {
  return `${cell.executor ?? "none"}/${cell.arch}`;
}

export function cellLabel(cell: Pick<Cell, "scenario" | "path" | "executor" | "arch">): string {
  return cell.path === "kubernetes"
    ? `${cell.scenario} kubernetes/${cell.arch}`
    : `${cell.scenario} ci ${cellKey(cell)}`;
}
