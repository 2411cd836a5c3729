// Rails' workspace creation after the mutation's own checks (GitLab's Create::Main): the agent's
// workspaces config, the devfile from the project at the ref, GitLab's devfile rules, then the record
// with its name, namespace and URL. Failures come back as GitLab's payload messages.
import { randomBytes } from "node:crypto";
import { type DevfileError, parseDevfileText } from "../../../devfile/index.ts";
import type { DesiredState } from "../../../kubernetes/settings.ts";
import type { Project, User } from "../store.ts";
import type { ClusterAgent, RemoteDevelopment, Workspace, WorkspaceVariable } from "./model.ts";

export const VALID_DESIRED_STATES: DesiredState[] = ["Running", "RestartRequested", "Stopped", "Terminated"];

/** GitLab's default devfile, used when workspaceCreate names no devfilePath. */
const DEFAULT_DEVFILE = `schemaVersion: 2.2.0
components:
  - name: development-environment
    attributes:
      gl/inject-editor: true
    container:
      image: "registry.gitlab.com/gitlab-org/gitlab-build-images/workspaces/ubuntu-24.04:20250109224147-golang-1.23@sha256:c3d5527641bc0c6f4fbbea4bb36fe225b8e9f1df69f682c927941327312bc676"
`;

export interface CreateParams {
  user: User;
  project: Project;
  agent: ClusterAgent;
  desiredState: string;
  projectRef: string;
  devfilePath: string | null;
  variables: WorkspaceVariable[];
}

export type CreateOutcome = { workspace: Workspace; errors: [] } | { workspace: null; errors: string[] };

const fail = (kind: string, details?: string): CreateOutcome => ({
  workspace: null,
  errors: [details ? `${kind}: ${details}` : kind],
});

/** Which of GitLab's failure messages a devfile problem becomes (the devfile gem validates while it flattens). */
function failureKind(errors: DevfileError[]): string {
  const rule = errors[0]?.rule;
  if (rule === "gitlab") return "Workspace create devfile validation failed";
  if (rule === "yaml" || rule === "size") return "Workspace create devfile yaml parse failed";
  return "Workspace create devfile flatten failed";
}

export async function createWorkspace(rd: RemoteDevelopment, p: CreateParams): Promise<CreateOutcome> {
  const config = p.agent.config;
  if (!config?.enabled)
    return fail(
      "Workspace create params validation failed",
      `No WorkspacesAgentConfig found for agent '${p.agent.name}'`,
    );
  let text = DEFAULT_DEVFILE;
  if (p.devfilePath !== null) {
    const blob = p.project.repo.head(p.projectRef)?.files.get(p.devfilePath);
    if (!blob)
      return fail(
        "Workspace create devfile load failed",
        `Devfile path '${p.devfilePath}' at ref '${p.projectRef}' does not exist in the project repository`,
      );
    text = blob.toString("utf8");
  }
  const parsed = await parseDevfileText(text, p.devfilePath ?? "default_devfile.yaml", { rules: "gitlab" });
  if (!parsed.ok)
    // GitLab joins several details with two spaces after the comma, so clients can split them.
    return fail(failureKind(parsed.errors), parsed.errors.map((e) => e.message).join(",  "));
  if (!VALID_DESIRED_STATES.includes(p.desiredState as DesiredState))
    return fail("Workspace create failed", "Desired state is not included in the list");
  const suffix = randomSuffix();
  const name = `workspace-${p.agent.id}-${p.user.id}-${suffix}`;
  const namespace = config.sharedNamespace || `gl-rd-ns-${p.agent.id}-${p.user.id}-${suffix}`;
  const now = new Date();
  const proxy = rd.options.workspacesProxy;
  const port = proxy.port === undefined ? "" : `:${proxy.port}`;
  const query = new URLSearchParams({ folder: `/projects/${p.project.path}` });
  return {
    workspace: rd.addWorkspace({
      name,
      namespace,
      userId: p.user.id,
      projectId: p.project.id,
      agentId: p.agent.id,
      desiredState: p.desiredState as DesiredState,
      desiredStateUpdatedAt: now,
      actualState: "CreationRequested",
      actualStateUpdatedAt: now,
      respondedToAgentAt: null,
      projectRef: p.projectRef,
      devfilePath: p.devfilePath,
      devfile: text,
      spec: parsed.spec,
      variables: p.variables,
      dnsZone: config.dnsZone,
      url: `${proxy.scheme}://60001-${name}.${config.dnsZone}${port}/?${query}`,
      deploymentResourceVersion: null,
      forceIncludeAllResources: false,
      createdAt: now,
      updatedAt: now,
    }),
    errors: [],
  };
}

/** Six lowercase alphanumerics, as GitLab's workspace names end. */
function randomSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** Rails' update: only the desired state changes; anything but GitLab's four states is refused. */
export function updateWorkspace(ws: Workspace, desiredState: string): string[] {
  if (!VALID_DESIRED_STATES.includes(desiredState as DesiredState))
    return ["Workspace update failed: Desired state is not included in the list"];
  if (ws.desiredState === "Terminated" && desiredState !== "Terminated")
    return [
      "Workspace update failed: Desired state is 'Terminated', and cannot be updated. Create a new workspace instead.",
    ];
  ws.desiredState = desiredState as DesiredState;
  ws.desiredStateUpdatedAt = new Date();
  ws.updatedAt = ws.desiredStateUpdatedAt;
  return [];
}
