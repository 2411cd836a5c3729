// The actual state of a workspace, computed from its Deployment the way GitLab's reconcile does.
import type { KubeObject } from "./objects.ts";

export type ActualState =
  | "CreationRequested"
  | "Starting"
  | "Running"
  | "Stopping"
  | "Stopped"
  | "Terminating"
  | "Terminated"
  | "Failed"
  | "Error"
  | "Unknown";

export type TerminationProgress = "Terminating" | "Terminated";

const ROLLING_OUT = new Set(["NewReplicaSetCreated", "FoundNewReplicaSet", "ReplicaSetUpdated"]);

/**
 * GitLab's table: termination progress and errors win; otherwise spec.replicas, the Progressing condition's
 * reason and the available/unavailable replica counts decide.
 *
 * | replicas | Progressing reason        | available | unavailable | state    |
 * | 1        | NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated | any | any | Starting |
 * | 1        | NewReplicaSetAvailable    | 1         | 0           | Running  |
 * | 1        | NewReplicaSetAvailable    | 0         | ≥1          | Failed (was running, now is not) |
 * | 0        | any but deadline exceeded | ≥1 or unavailable ≥1  |  | Stopping |
 * | 0        | any but deadline exceeded | 0         | 0           | Stopped  |
 * | any      | ProgressDeadlineExceeded  | any       | any         | Failed   |
 * | no status or no Progressing condition yet                      || Unknown  |
 */
export function actualStateOf(
  deployment: KubeObject | undefined,
  termination?: TerminationProgress,
  error?: string,
): ActualState {
  if (termination) return termination;
  if (error) return "Error";
  if (!deployment) return "Unknown";
  const replicas = deployment.spec?.replicas;
  const status = deployment.status;
  const conditions = (status?.conditions ?? []) as { type: string; reason?: string }[];
  if (replicas === undefined || !status || !conditions.length) return "Unknown";
  if ((status.observedGeneration ?? 0) < (deployment.metadata.generation ?? 0)) {
    return replicas === 0 ? "Stopping" : "Starting";
  }
  const reason = conditions.find((c) => c.type === "Progressing")?.reason;
  if (!reason) return "Unknown";
  if (reason === "ProgressDeadlineExceeded") return "Failed";
  const available = status.availableReplicas ?? 0;
  const unavailable = status.unavailableReplicas ?? 0;
  const current = status.replicas ?? 0;
  if (replicas === 0) return available > 0 || unavailable > 0 || current > 0 ? "Stopping" : "Stopped";
  if (ROLLING_OUT.has(reason)) return "Starting";
  if (reason === "NewReplicaSetAvailable") {
    if (available >= replicas && unavailable === 0) return "Running";
    if (available === 0 && unavailable > 0) return "Failed";
    return "Starting";
  }
  return "Unknown";
}
