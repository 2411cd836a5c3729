// Rails' side of agentk's reconcile: what the agent reports becomes each workspace's actual state (GitLab's
// state table), RestartRequested turns into Running once the workspace is Stopped, and the answer carries
// the desired config of every workspace the agent must act on.
import { actualStateOf, type TerminationProgress } from "../../../kubernetes/actual-state.ts";
import { desiredConfig } from "../../../kubernetes/desired-config.ts";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import { defaultSettings, type WorkspaceSettings } from "../../../kubernetes/settings.ts";
import { toYamlStream } from "../../../kubernetes/yaml-stream.ts";
import type { ClusterAgent, RemoteDevelopment, Workspace } from "./model.ts";

export interface WorkspaceAgentInfo {
  name: string;
  namespace?: string;
  latest_k8s_deployment_info?: {
    metadata?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    status?: Record<string, unknown>;
  };
  termination_progress?: TerminationProgress;
  error_details?: { error_type: string; error_message: string };
}

export interface WorkspaceRailsInfo {
  name: string;
  namespace: string;
  desired_state: string;
  actual_state: string;
  deployment_resource_version: string | null;
  config_to_apply: string;
  image_pull_secrets: { name: string; namespace: string }[];
}

export interface ReconcileResponse {
  workspace_rails_infos: WorkspaceRailsInfo[];
  settings: { full_reconciliation_interval_seconds: number; partial_reconciliation_interval_seconds: number };
}

export class ReconcileParamsError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** GitLab's params validator: update_type full|partial, workspace_agent_infos a list of named infos. */
export function validateReconcileParams(body: Obj): {
  updateType: "full" | "partial";
  infos: WorkspaceAgentInfo[];
} {
  const updateType = body.update_type;
  if (updateType !== "full" && updateType !== "partial")
    throw new ReconcileParamsError(
      "root is missing required keys: update_type, or update_type is not one of: partial, full",
    );
  const infos = body.workspace_agent_infos;
  if (!Array.isArray(infos))
    throw new ReconcileParamsError("property '/workspace_agent_infos' is not of type: array");
  for (const [i, info] of infos.entries()) {
    if (!isObj(info) || typeof info.name !== "string")
      throw new ReconcileParamsError(`property '/workspace_agent_infos/${i}' is missing required keys: name`);
    const tp = info.termination_progress;
    if (tp !== undefined && tp !== "Terminating" && tp !== "Terminated")
      throw new ReconcileParamsError(
        `property '/workspace_agent_infos/${i}/termination_progress' is not one of: ["Terminating", "Terminated"]`,
      );
  }
  return { updateType, infos: infos as WorkspaceAgentInfo[] };
}

/** The settings Rails' desired config is generated from, for a workspace in its current desired state. */
export function workspaceSettings(rd: RemoteDevelopment, ws: Workspace): WorkspaceSettings {
  const config = rd.agents.get(ws.agentId)?.config;
  const env = ws.variables.filter((v) => v.variableType === "ENVIRONMENT");
  const files = ws.variables.filter((v) => v.variableType === "FILE");
  return defaultSettings(ws.spec.name, {
    name: ws.name,
    namespace: ws.namespace,
    workspaceId: String(ws.id),
    agentId: String(ws.agentId),
    dnsZone: ws.dnsZone,
    desiredState: ws.desiredState,
    userEnv: Object.fromEntries(env.map((v) => [v.key, v.value])),
    userFiles: Object.fromEntries(files.map((v) => [v.key, v.value])),
    labels: config?.labels ?? {},
    annotations: config?.annotations ?? {},
    imagePullSecrets: (config?.imagePullSecrets ?? []).map((s) => s.name),
    ...(config?.maxResourcesPerWorkspace
      ? { maxResourcesPerWorkspace: config.maxResourcesPerWorkspace }
      : {}),
  });
}

const isTerminated = (ws: Workspace) => ws.desiredState === "Terminated" && ws.actualState === "Terminated";

export function reconcile(
  rd: RemoteDevelopment,
  agent: ClusterAgent,
  updateType: "full" | "partial",
  infos: WorkspaceAgentInfo[],
): ReconcileResponse {
  const now = new Date();
  agent.connectedAt ??= now;
  const ofAgent = [...rd.workspaces.values()].filter((w) => w.agentId === agent.id);
  const reported = new Set<Workspace>();
  for (const info of infos) {
    const ws = ofAgent.find((w) => w.name === info.name);
    // An orphan: a workspace the cluster has and Rails does not (GitLab logs it and carries on).
    if (!ws) continue;
    reported.add(ws);
    const d = info.latest_k8s_deployment_info;
    const deployment = d
      ? ({ apiVersion: "apps/v1", kind: "Deployment", metadata: {}, ...d } as unknown as KubeObject)
      : undefined;
    const actual = actualStateOf(deployment, info.termination_progress, info.error_details?.error_message);
    if (actual !== ws.actualState) {
      ws.actualState = actual;
      ws.actualStateUpdatedAt = now;
    }
    const version = deployment?.metadata?.resourceVersion;
    if (typeof version === "string") ws.deploymentResourceVersion = version;
    // RestartRequested scales the workspace down; once it is Stopped, Rails asks for Running again.
    if (ws.desiredState === "RestartRequested" && ws.actualState === "Stopped") {
      ws.desiredState = "Running";
      ws.desiredStateUpdatedAt = now;
    }
    ws.updatedAt = now;
  }
  const changedSinceResponse = (ws: Workspace) =>
    ws.respondedToAgentAt === null ||
    ws.desiredStateUpdatedAt >= ws.respondedToAgentAt ||
    ws.actualStateUpdatedAt > ws.respondedToAgentAt;
  const toReturn = ofAgent.filter(
    (ws) =>
      !isTerminated(ws) &&
      (updateType === "full" || reported.has(ws) || ws.forceIncludeAllResources || changedSinceResponse(ws)),
  );
  const infosOut = toReturn.map((ws): WorkspaceRailsInfo => {
    const includeConfig =
      ws.desiredState !== "Terminated" &&
      (updateType === "full" || ws.forceIncludeAllResources || changedSinceResponse(ws));
    return {
      name: ws.name,
      namespace: ws.namespace,
      desired_state: ws.desiredState,
      actual_state: ws.actualState,
      deployment_resource_version: ws.deploymentResourceVersion,
      config_to_apply: includeConfig ? toYamlStream(desiredConfig(ws.spec, workspaceSettings(rd, ws))) : "",
      image_pull_secrets: agent.config?.imagePullSecrets ?? [],
    };
  });
  for (const ws of toReturn) {
    ws.respondedToAgentAt = now;
    ws.forceIncludeAllResources = false;
  }
  return {
    workspace_rails_infos: infosOut,
    settings: {
      full_reconciliation_interval_seconds: rd.options.fullReconciliationIntervalSeconds,
      partial_reconciliation_interval_seconds: rd.options.partialReconciliationIntervalSeconds,
    },
  };
}
