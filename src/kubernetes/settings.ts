// What GitLab knows about a workspace beyond its devfile: identity, placement and user-provided variables.

export type DesiredState = "Running" | "RestartRequested" | "Stopped" | "Terminated";

export interface ProjectCloneSettings {
  /** URL the project cloner init container clones from. */
  repoUrl: string;
  branch: string;
  /** Folder under /projects the project is cloned into. */
  projectName: string;
}

export interface WorkspaceSettings {
  /** Workspace name, e.g. workspace-991-990-fedcba; names the Deployment, Service and ServiceAccount. */
  name: string;
  namespace: string;
  workspaceId: string;
  agentId: string;
  /** DNS zone of the workspace proxy: endpoints are reached at <port>-<name>.<dnsZone>. */
  dnsZone: string;
  desiredState: DesiredState;
  /** User variables of type env: become the <name>-env-var Secret. */
  userEnv: Record<string, string>;
  /** User variables of type file: become the <name>-file Secret, mounted at /.workspace-data/variables/file. */
  userFiles: Record<string, string>;
  /** Agent config labels and annotations added to every object. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Inject the editor (tools injector init container, editor and SSH endpoints, start scripts). */
  injectEditor: boolean;
  toolsImage: string;
  projectCloner?: ProjectCloneSettings;
  /** Agent config max_resources_per_workspace; a ResourceQuota is generated when set. */
  maxResourcesPerWorkspace?: {
    limits: { cpu: string; memory: string };
    requests: { cpu: string; memory: string };
  };
  imagePullSecrets: string[];
  /** Size of the workspace data volume (GitLab: 50Gi). */
  workspaceDataSize: string;
}

export const WORKSPACE_UID = 5001;
export const EDITOR_PORT = 60001;
export const SSH_PORT = 60022;
export const TOOLS_DIR = "/projects/.gl-tools";
export const WORKSPACE_DATA_VOLUME = "gl-workspace-data";
export const VARIABLES_VOLUME = "gl-workspace-variables";
export const VARIABLES_FILE_DIR = "/.workspace-data/variables/file";
export const SCRIPTS_VOLUME = "gl-workspace-scripts";
export const SCRIPTS_DIR = "/workspace-scripts";
export const WORKSPACE_LOGS_DIR = "/tmp/workspace-logs";
export const DEFAULT_TOOLS_IMAGE =
  "registry.gitlab.com/gitlab-org/gitlab-web-ide-vscode-fork/gitlab-workspaces-tools:16.0.0";

/** Settings for a workspace named after the devfile, with GitLab's defaults for everything else. */
export function defaultSettings(
  devfileName: string,
  overrides: Partial<WorkspaceSettings> = {},
): WorkspaceSettings {
  const name = overrides.name ?? `workspace-${sanitizeName(devfileName)}`;
  return {
    name,
    namespace:
      overrides.namespace ?? `gl-rd-ns-${name.replace(/^workspace-/, "")}`.slice(0, 63).replace(/-+$/, ""),
    workspaceId: "1",
    agentId: "1",
    dnsZone: "workspaces.localhost",
    desiredState: "Running",
    userEnv: {},
    userFiles: {},
    labels: {},
    annotations: {},
    injectEditor: true,
    toolsImage: DEFAULT_TOOLS_IMAGE,
    imagePullSecrets: [],
    workspaceDataSize: "50Gi",
    ...overrides,
  };
}

/** A DNS-1123 label made from any string (lower case, alphanumerics and '-', at most 40 characters). */
export function sanitizeName(s: string): string {
  const cleaned = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return cleaned || "workspace";
}
