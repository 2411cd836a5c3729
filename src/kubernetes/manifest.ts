import type { WorkspaceSpec } from "../devfile/spec.ts";
import { desiredConfig } from "./desired-config.ts";
import type { KubeObject } from "./objects.ts";
import type { WorkspaceSettings } from "./settings.ts";

/**
 * What `devfile to-k8s` prints: the workspace's Namespace (agentk creates it before applying; GitLab's desired
 * config does not list it), then GitLab's desired config.
 */
export function workspaceManifest(spec: WorkspaceSpec, settings: WorkspaceSettings): KubeObject[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: settings.namespace } },
    ...desiredConfig(spec, settings),
  ];
}
