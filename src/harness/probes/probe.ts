import type { FeatureStatus } from "../../report/model.ts";
import type { CellContext, WorkspaceHandle } from "../workspace.ts";

export interface ProbeOutcome {
  status: FeatureStatus;
  evidence: string;
  /** Why the probe could not check the feature: required with status inconclusive. */
  reason?: string;
  /** What the devfile's own payload did, where that decides the outcome (compared across paths). */
  outcome?: string;
}

export interface ProbeContext extends CellContext {
  ws: WorkspaceHandle;
  timeoutMs: number;
  /** Wall-clock time (ms) the workspace's start was requested: effects older than this are a previous run's. */
  startedAtMs: number;
}

/** A feature probe: observes the feature through the user's surfaces; never judges from configuration alone. */
export interface Probe {
  id: string;
  /** Runs in one of three phases around the cell's single restart and final stop. */
  phase?: "live";
  /** Why the feature cannot be shown on this cell, or undefined when it can. */
  notApplicable?(ctx: ProbeContext): string | undefined;
  run(ctx: ProbeContext): Promise<ProbeOutcome>;
}

/** A probe that needs the workspace restarted: prepare before the restart, verify after. */
export interface RestartProbe<State = unknown> {
  id: string;
  phase: "restart";
  notApplicable?(ctx: ProbeContext): string | undefined;
  prepare(ctx: ProbeContext): Promise<State>;
  verify(ctx: ProbeContext, state: State, restart: RestartObservation): Promise<ProbeOutcome>;
}

export interface RestartObservation {
  ok: boolean;
  durationMs: number;
  error?: string;
}

/** A probe that stops the workspace: runs last. */
export interface StopProbe {
  id: string;
  phase: "stop";
  notApplicable?(ctx: ProbeContext): string | undefined;
  run(ctx: ProbeContext): Promise<ProbeOutcome>;
}

export type AnyProbe = Probe | RestartProbe | StopProbe;

export const supported = (evidence: string): ProbeOutcome => ({ status: "supported", evidence });
export const unsupported = (evidence: string): ProbeOutcome => ({ status: "unsupported", evidence });
export const degraded = (evidence: string): ProbeOutcome => ({ status: "degraded", evidence });
/** The probe could not check the feature for a reason that is not the feature, named in `reason`. */
export const inconclusive = (evidence: string, reason: string): ProbeOutcome => ({
  status: "inconclusive",
  evidence,
  reason,
});
