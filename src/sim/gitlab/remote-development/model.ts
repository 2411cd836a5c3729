// What the GitLab simulator knows about remote development: cluster agents and their tokens, the
// agent-to-namespace mappings, the workspaces and the licence. Rails' tables, in memory.
import { randomBytes } from "node:crypto";
import type { WorkspaceSpec } from "../../../devfile/spec.ts";
import type { ActualState } from "../../../kubernetes/actual-state.ts";
import type { DesiredState } from "../../../kubernetes/settings.ts";
import { groupAncestry } from "../groups-api.ts";
import { type Project, ROOT_NAMESPACE, type Store } from "../store.ts";
import type { WorkspacesAgentConfig } from "./agent-config.ts";

export interface ClusterAgent {
  id: number;
  name: string;
  projectId: number;
  createdAt: Date;
  createdByUserId: number;
  /** Learned from the agent's config file when the agent connects, as Rails learns it through KAS. */
  config: WorkspacesAgentConfig | undefined;
  /** Why the last config read failed, when it did. */
  configError: string | undefined;
  connectedAt: Date | null;
}

export interface AgentToken {
  id: number;
  agentId: number;
  name: string;
  description: string;
  token: string;
  status: "active" | "revoked";
  createdAt: Date;
  createdByUserId: number;
  lastUsedAt: Date | null;
}

export interface WorkspaceVariable {
  key: string;
  value: string;
  variableType: "ENVIRONMENT" | "FILE";
}

export interface Workspace {
  id: number;
  name: string;
  namespace: string;
  userId: number;
  projectId: number;
  agentId: number;
  desiredState: DesiredState;
  desiredStateUpdatedAt: Date;
  actualState: ActualState;
  actualStateUpdatedAt: Date;
  respondedToAgentAt: Date | null;
  projectRef: string;
  devfilePath: string | null;
  devfile: string;
  spec: WorkspaceSpec;
  variables: WorkspaceVariable[];
  dnsZone: string;
  url: string;
  deploymentResourceVersion: string | null;
  forceIncludeAllResources: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A namespace of the simulator: root's user namespace (id 1) or a group. */
export interface Namespace {
  id: number;
  fullPath: string;
}

export interface RemoteDevelopmentOptions {
  /** Whether the instance's licence includes `remote_development` (Premium and Ultimate). */
  licensed: boolean;
  /** Rails' reconcile intervals, sent to agentk in every reconcile response. */
  fullReconciliationIntervalSeconds: number;
  partialReconciliationIntervalSeconds: number;
  /**
   * How users reach the workspaces proxy: GitLab writes https://<port>-<name>.<dns_zone>/ and leaves the
   * port to the ingress; the simulator's proxy listens on a port of its own, so it names the scheme and port.
   */
  workspacesProxy: { scheme: "http" | "https"; port: number | undefined };
}

export class RemoteDevelopment {
  readonly agents = new Map<number, ClusterAgent>();
  readonly agentTokens = new Map<number, AgentToken>();
  readonly workspaces = new Map<number, Workspace>();
  /** namespace id → agent ids mapped to it. */
  readonly mappings = new Map<number, Set<number>>();
  private nextId = { agent: 1, token: 1, workspace: 1 };

  constructor(
    readonly store: Store,
    readonly options: RemoteDevelopmentOptions,
  ) {}

  /** The namespace a project lives in. */
  namespaceOf(project: Project): Namespace {
    return { id: project.namespace.id, fullPath: project.namespace.fullPath };
  }

  namespace(id: number): Namespace | undefined {
    if (id === ROOT_NAMESPACE.id) return { id, fullPath: ROOT_NAMESPACE.fullPath };
    const group = this.store.groups.get(id);
    return group ? { id, fullPath: group.fullPath } : undefined;
  }

  /** The project's namespace and every group above it, nearest first. */
  ancestorsOf(project: Project): Namespace[] {
    const group =
      project.namespace.kind === "group" ? this.store.groups.get(project.namespace.id) : undefined;
    if (!group) return [this.namespaceOf(project)];
    return groupAncestry(this.store, group).map((g) => ({ id: g.id, fullPath: g.fullPath }));
  }

  createAgent(project: Project, name: string, userId: number): ClusterAgent {
    const agent: ClusterAgent = {
      id: this.nextId.agent++,
      name,
      projectId: project.id,
      createdAt: new Date(),
      createdByUserId: userId,
      config: undefined,
      configError: undefined,
      connectedAt: null,
    };
    this.agents.set(agent.id, agent);
    return agent;
  }

  createAgentToken(agent: ClusterAgent, name: string, description: string, userId: number): AgentToken {
    const token: AgentToken = {
      id: this.nextId.token++,
      agentId: agent.id,
      name,
      description,
      token: `glagent-${randomBytes(36).toString("base64url")}`,
      status: "active",
      createdAt: new Date(),
      createdByUserId: userId,
      lastUsedAt: null,
    };
    this.agentTokens.set(token.id, token);
    return token;
  }

  /** The agent an active token belongs to (KAS's check before it forwards a request to Rails). */
  agentByToken(token: string | undefined): ClusterAgent | undefined {
    if (!token) return undefined;
    const found = [...this.agentTokens.values()].find((t) => t.token === token && t.status === "active");
    if (!found) return undefined;
    found.lastUsedAt = new Date();
    return this.agents.get(found.agentId);
  }

  isMapped(agent: ClusterAgent, project: Project): boolean {
    return this.ancestorsOf(project).some((ns) => this.mappings.get(ns.id)?.has(agent.id));
  }

  addWorkspace(fields: Omit<Workspace, "id">): Workspace {
    const workspace = { ...fields, id: this.nextId.workspace++ };
    this.workspaces.set(workspace.id, workspace);
    return workspace;
  }
}
