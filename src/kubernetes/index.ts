export { type ActualState, actualStateOf, type TerminationProgress } from "./actual-state.ts";
export { desiredConfig, type WorkspaceNames, workspaceNames } from "./desired-config.ts";
export { workspaceManifest } from "./manifest.ts";
export type { KubeObject, ObjectMeta } from "./objects.ts";
export { KubernetesWorkspaceProxy, type PodDialer, type WorkspaceProxyOptions } from "./proxy.ts";
export { FIELD_MANAGER, WorkspaceReconciler } from "./reconciler.ts";
export { type DesiredState, defaultSettings, type WorkspaceSettings } from "./settings.ts";
export { toYamlStream } from "./yaml-stream.ts";
