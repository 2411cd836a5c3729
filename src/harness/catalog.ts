// The feature catalog: every feature the harness probes live on every cell (docs/DESIGN.md).
import { createHash } from "node:crypto";

export interface FeatureDefinition {
  id: string;
  title: string;
}

export const FEATURE_CATALOG: readonly FeatureDefinition[] = [
  { id: "container.image", title: "The container runs the devfile's image" },
  { id: "container.env", title: "Container env vars are set" },
  { id: "container.command-args", title: "Container command and args are honoured" },
  { id: "container.multi", title: "Sidecars share localhost with the main container" },
  { id: "container.resources", title: "Memory and CPU limits are enforced" },
  { id: "container.user", title: "Containers run as the workspace user (UID 5001, non-root)" },
  { id: "volume.shared", title: "A volume is shared between containers" },
  { id: "volume.persistent", title: "Workspace data survives a restart" },
  { id: "volume.ephemeral", title: "Ephemeral volumes start empty" },
  { id: "project.source", title: "The project is cloned into the workspace" },
  { id: "endpoint.http", title: "HTTP endpoints answer at the workspace URL" },
  { id: "endpoint.websocket", title: "WebSocket endpoints work through the workspace URL" },
  { id: "endpoint.internal", title: "Internal endpoints are not reachable from outside" },
  { id: "endpoint.tcp", title: "SSH on 60022 is reachable through the workspace URL" },
  { id: "event.preStart", title: "preStart commands run before the workspace starts" },
  { id: "event.postStart", title: "postStart commands run after the workspace starts" },
  { id: "event.preStop", title: "preStop commands run before the workspace stops" },
  { id: "command.exec", title: "Exec commands run in their component" },
  { id: "editor.injected", title: "The editor answers on port 60001" },
  { id: "workspace.restart", title: "A restart brings the workspace back" },
  { id: "workspace.stop", title: "Stop frees everything" },
  { id: "workspace.variables", title: "User variables arrive as env and files" },
  { id: "arch.arm64", title: "The workspace runs on arm64" },
  { id: "registry.private", title: "Images come from a private registry with credentials" },
  { id: "network.egress-policy", title: "Egress to private ranges is blocked" },
];

export const FEATURE_IDS: readonly string[] = FEATURE_CATALOG.map((f) => f.id);

/**
 * A digest of the catalog (feature ids and titles): parts of one matrix run with different catalogs
 * cannot be merged into one report (`wsparity merge`).
 */
export const CATALOG_VERSION = createHash("sha256")
  .update(JSON.stringify(FEATURE_CATALOG))
  .digest("hex")
  .slice(0, 12);
