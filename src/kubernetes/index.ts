export { desiredConfig, type WorkspaceNames, workspaceNames } from "./desired-config.ts";
export { workspaceManifest } from "./manifest.ts";
export type { KubeObject, ObjectMeta } from "./objects.ts";
export { type DesiredState, defaultSettings, type WorkspaceSettings } from "./settings.ts";
export { toYamlStream } from "./yaml-stream.ts";
