export { type CleanupResult, type CleanupScope, cleanupByLabel, installCleanupHandlers } from "./cleanup.ts";
export { dockerEngine, engineAnswers, hostAddressForContainers, isNotFound } from "./engine.ts";
export {
  currentRunId,
  MANAGED_LABEL,
  managedLabels,
  OWNER_PID_LABEL,
  RUN_LABEL,
  setRunId,
} from "./labels.ts";
export { parseMemorySize } from "./memory.ts";
export { type StartedNetwork, WorkspaceNetwork } from "./network.ts";
export { type ExecOptions, type ExecResult, StartedWorkspaceContainer } from "./started-container.ts";
export { type CreatedVolume, WorkspaceVolume } from "./volume.ts";
export { type Platform, WorkspaceContainer } from "./workspace-container.ts";
