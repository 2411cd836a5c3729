import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Gitlab } from "@gitbeaker/rest";
import { stringify } from "yaml";
import type { GraphqlRequest } from "../../gitlab/graphql-client.ts";
import { EDITOR_PORT, sanitizeName } from "../../kubernetes/settings.ts";
import type { Arch } from "../../report/model.ts";
import type { ClusterAgentSelector } from "../../tier/settings.ts";
import { openConnectTunnel } from "../../tunnel/index.ts";
import { asEnvironmentError, EnvironmentError } from "../environment-error.ts";
import { fetchAsUser, type NameResolution, zoneResolution } from "../name-resolution.ts";
import type { CellContext, PathProvisioner, WorkspaceHandle } from "../workspace.ts";
import { imageFacts } from "./image-facts.ts";
import { editorAnswers, waitUntil } from "./tunnel-handle.ts";

const POLL_MS = 200;

interface WorkspaceState {
  id: string;
  name: string;
  namespace: string;
  desiredState: string;
  actualState: string;
  actualStateUpdatedAt: string;
  /** When the agent last took the workspace's config; null until agentk has reconciled it once. */
  respondedToAgentAt: string | null;
  url: string;
}

const WORKSPACE_FIELDS =
  "id name namespace desiredState actualState actualStateUpdatedAt respondedToAgentAt url";

const CREATE = `mutation create($input: WorkspaceCreateInput!) {
  workspaceCreate(input: $input) { errors workspace { ${WORKSPACE_FIELDS} } }
}`;
const UPDATE = `mutation update($input: WorkspaceUpdateInput!) {
  workspaceUpdate(input: $input) { errors workspace { ${WORKSPACE_FIELDS} } }
}`;
const READ = `query read($id: RemoteDevelopmentWorkspaceID!) { workspace(id: $id) { ${WORKSPACE_FIELDS} } }`;

/** Actual states a workspace does not leave by itself: waiting on for another state is pointless. */
const BROKEN = ["Failed", "Error"];

export interface KubernetesPathOptions {
  /** GitLab's REST API, for committing the devfile the workspace is created from. */
  api: InstanceType<typeof Gitlab>;
  graphql: GraphqlRequest;
  /** The user's GitLab token: the workspaces proxy lets its holder in. */
  userToken: string;
  projectId: number;
  /** The cluster agent of this architecture's cluster, its DNS zone and where the zone resolves. */
  agent: ClusterAgentSelector;
  /** The image map of tiers that run images: devfile image → the local image that runs. */
  imageFor?: (reference: string, arch: Arch) => string;
  log: (line: string) => void;
}

/**
 * The Kubernetes path as a GitLab user takes it: the devfile committed to the project, the workspace created and
 * driven through GraphQL (Rails turns it into desired config, agentk applies it to the cluster and reports back),
 * and its ports reached at the URL GitLab gives, through the workspaces proxy, with the user's GitLab token.
 */
export class KubernetesPathProvisioner implements PathProvisioner {
  readonly path = "kubernetes" as const;
  private serial = 0;
  private readonly resolution: NameResolution | undefined;

  constructor(private readonly options: KubernetesPathOptions) {
    const at = options.agent.resolveTo;
    this.resolution = at ? zoneResolution(options.agent.dnsZone, at.replace(/:\d+$/, "")) : undefined;
  }

  async start(cell: CellContext): Promise<WorkspaceHandle> {
    const { api, graphql, projectId, agent } = this.options;
    const leaf = `${sanitizeName(cell.scenario.name).slice(0, 24)}-${++this.serial}-${randomBytes(2).toString("hex")}`;
    const branch = `wsparity/kubernetes-${leaf}`;
    // A path of its own: the project may hold a .devfile.yaml of its own on the default branch.
    const devfilePath = `.wsparity/devfiles/${leaf}.yaml`;
    await api.Commits.create(
      projectId,
      branch,
      `wsparity: devfile of scenario ${cell.scenario.name}`,
      [{ action: "create", filePath: devfilePath, content: stringify(cell.devfile, { lineWidth: 0 }) }],
      { startBranch: (await api.Projects.show(projectId)).default_branch as string },
    );
    const created = await graphql<{
      workspaceCreate: { errors: string[]; workspace: WorkspaceState | null };
    }>(CREATE, {
      input: {
        clusterAgentId: agent.clusterAgentId,
        projectId: `gid://gitlab/Project/${projectId}`,
        desiredState: "Running",
        projectRef: branch,
        devfilePath,
        workspaceVariables: [
          ...Object.entries(cell.scenario.workspace.variables).map(([key, value]) => ({
            key,
            value,
            variableType: "ENVIRONMENT",
          })),
          ...Object.entries(cell.scenario.workspace.files).map(([key, value]) => ({
            key,
            value,
            variableType: "FILE",
          })),
        ],
      },
    }).catch((err: Error) => {
      throw asEnvironmentError(err);
    });
    const first = created.workspaceCreate.workspace;
    if (created.workspaceCreate.errors.length)
      throw asEnvironmentError(
        new Error(`GitLab refused workspaceCreate: ${created.workspaceCreate.errors.join("; ")}`),
      );
    if (!first || created.workspaceCreate.errors.length)
      throw new Error(`GitLab refused workspaceCreate: ${created.workspaceCreate.errors.join("; ")}`);
    const handle = this.handle(cell, first);
    this.options.log(`${first.name}: created from ${branch}, namespace ${first.namespace}`);
    try {
      await this.reach(first, "Running", cell.scenario.timeouts.startMs);
      await waitUntil(
        "the editor to answer through the workspaces proxy",
        () => editorAnswers(handle, EDITOR_PORT),
        cell.scenario.timeouts.startMs,
      );
    } catch (err) {
      await handle.dispose().catch((e) => this.options.log(`${first.name}: terminate failed: ${e.message}`));
      throw err;
    }
    return handle;
  }

  private handle(cell: CellContext, workspace: WorkspaceState): WorkspaceHandle {
    const { agent, userToken } = this.options;
    const base = new URL(workspace.url);
    const origin = (port: number) =>
      `${base.protocol}//${port}-${workspace.name}.${agent.dnsZone}${base.port ? `:${base.port}` : ""}`;
    const authHeaders = () => ({ authorization: `Bearer ${userToken}` });
    const timeout = cell.scenario.timeouts.startMs;
    const set = async (desiredState: string) => {
      const answer = await this.options.graphql<{
        workspaceUpdate: { errors: string[]; workspace: WorkspaceState | null };
      }>(UPDATE, { input: { id: workspace.id, desiredState } });
      if (answer.workspaceUpdate.errors.length)
        throw new Error(`GitLab refused ${desiredState}: ${answer.workspaceUpdate.errors.join("; ")}`);
    };
    const handle: WorkspaceHandle = {
      name: workspace.name,
      facts: { namespace: workspace.namespace, ...imageFacts(cell, this.options.imageFor) },
      url: (port, path = "/") => `${origin(port)}${path.startsWith("/") ? path : `/${path}`}`,
      authHeaders,
      ...(this.resolution ? { resolution: this.resolution } : {}),
      fetch: fetchAsUser(authHeaders, this.resolution),
      connect: (port): Promise<Duplex> =>
        openConnectTunnel({
          url: new URL(agent.resolveTo ? `${base.protocol}//${agent.resolveTo}` : base.origin),
          workspace: workspace.name,
          port,
          token: userToken,
          domain: agent.dnsZone,
          timeoutMs: 10_000,
        }),
      restart: async () => {
        const asked = Date.now();
        await set("RestartRequested");
        await this.reach(workspace, "Running", timeout, asked);
        await waitUntil(
          "the editor to answer after the restart",
          () => editorAnswers(handle, EDITOR_PORT),
          timeout,
        );
      },
      stop: async () => {
        await set("Stopped");
        await this.reach(workspace, "Stopped", timeout);
      },
      leftovers: async () => {
        const { actualState } = await this.read(workspace.id);
        return actualState === "Stopped" || actualState === "Terminated"
          ? []
          : [`workspace ${workspace.name} is ${actualState} (GitLab's actualState)`];
      },
      dispose: async () => {
        const before = await this.read(workspace.id);
        await set("Terminated");
        // Nothing runs for a Stopped workspace (the stop probe saw it so), and a workspace no agent ever took has
        // nothing in any cluster: agentk removes what is left on its next reconcile, and waiting for GitLab to
        // record that would only add a reconcile interval or, without an agent, run out the clock.
        if (before.actualState === "Stopped" || before.respondedToAgentAt === null) return;
        await this.reach(workspace, "Terminated", 60_000);
      },
    };
    return handle;
  }

  private async read(id: string): Promise<WorkspaceState> {
    const answer = await this.options.graphql<{ workspace: WorkspaceState | null }>(READ, { id });
    if (!answer.workspace) throw new Error(`GitLab no longer knows workspace ${id}`);
    return answer.workspace;
  }

  /**
   * Polls the workspace until GitLab's actualState is `want`. After a restart request, `since` makes it wait
   * for a state reported after the request, not the Running it had before.
   */
  private async reach(
    workspace: WorkspaceState,
    want: string,
    timeoutMs: number,
    since?: number,
  ): Promise<WorkspaceState> {
    const deadline = Date.now() + timeoutMs;
    let left = since === undefined;
    let seen = workspace;
    for (;;) {
      seen = await this.read(workspace.id);
      if (!left && (seen.actualState !== want || Date.parse(seen.actualStateUpdatedAt) >= since!))
        left = true;
      if (left && seen.actualState === want) return seen;
      if (BROKEN.includes(seen.actualState) || (seen.actualState === "Terminated" && want !== "Terminated"))
        throw new Error(`workspace ${workspace.name} is ${seen.actualState}, so it cannot become ${want}`);
      if (Date.now() > deadline && seen.respondedToAgentAt === null)
        throw new EnvironmentError(
          `cluster agent ${this.options.agent.clusterAgentId} never took workspace ${workspace.name} within ${timeoutMs} ms (GitLab says ${seen.actualState}, respondedToAgentAt null): is agentk connected?`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `workspace ${workspace.name} did not become ${want} within ${timeoutMs} ms: GitLab says ${seen.actualState} (desired ${seen.desiredState})`,
        );
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
