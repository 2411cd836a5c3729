// The one result model every reporter, compare and gate reads (report.json, docs/DESIGN.md).

export const REPORT_SCHEMA_VERSION = "1.0.0";

export type Tier = "sim" | "docker" | "live";
export type WorkspacePath = "kubernetes" | "ci";
export type Executor = "shell" | "docker" | "kubernetes";
export type Arch = "amd64" | "arm64";
export type CellStatus = "passed" | "failed" | "error" | "skipped";
export type FeatureStatus = "supported" | "unsupported" | "degraded" | "not-applicable" | "error";
export type GapSeverity = "critical" | "major" | "minor";

export interface FeatureResult {
  id: string;
  status: FeatureStatus;
  /** What the probe observed, so a reader can check the verdict. */
  evidence: string;
  durationMs: number;
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
}

export interface Summary {
  cells: number;
  features: number;
  gaps: number;
  /** (CI cell × feature) pairs the reference supports and the CI cell could show: parityPct's denominator. */
  compared: number;
  /** Share of (CI cell × feature) pairs, among those the reference supports and the CI cell could show, that match. */
  parityPct: number;
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
  summary: Summary;
}

export function cellKey(cell: Pick<Cell, "executor" | "arch">): string {
  return `${cell.executor ?? "none"}/${cell.arch}`;
}

export function cellLabel(cell: Pick<Cell, "scenario" | "path" | "executor" | "arch">): string {
  return cell.path === "kubernetes"
    ? `${cell.scenario} kubernetes/${cell.arch}`
    : `${cell.scenario} ci ${cellKey(cell)}`;
}
