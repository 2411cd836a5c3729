// agentk's remote_development module, in-process: it polls Rails' reconcile endpoint (full at start and on
// the full interval, partial on the partial interval Rails returns), applies each workspace's
// config_to_apply with server-side apply under agentk's field manager, prunes by inventory, terminates
// what Rails wants Terminated, and reports every workspace's Deployment back.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1Deployment,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import {
  apiVersionOf,
  INVENTORY_ID_LABEL,
  inventoryKey,
  type ObjectRef,
  OWNING_INVENTORY_ANNOTATION,
  parseInventoryKey,
  refOf,
} from "./inventory.ts";

export const AGENTK_FIELD_MANAGER = "agentk";
const AGENT_ID_LABEL = "agent.gitlab.com/id";
const RECONCILE_PATH = "/api/v4/internal/kubernetes/modules/remote_development/reconcile";

export interface AgentkOptions {
  gitlabUrl: string;
  token: string;
  kc: KubeConfig;
  log?: (line: string) => void;
}

interface RailsInfo {
  name: string;
  namespace: string;
  desired_state: string;
  actual_state: string;
  config_to_apply: string;
}

interface AgentInfo {
  name: string;
  namespace: string;
  latest_k8s_deployment_info?: Record<string, unknown>;
  termination_progress?: "Terminating" | "Terminated";
  error_details?: { error_type: string; error_message: string };
}

interface Tracked {
  namespace: string;
  /** resourceVersion of the Deployment last reported; null when it was reported missing. */
  reported: string | null | undefined;
  termination?: "Terminating" | "Terminated";
  terminationReported?: "Terminating" | "Terminated";
  error?: string;
}

export class Agentk {
  private readonly objects: KubernetesObjectApi;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly tracked = new Map<string, Tracked>();
  private agentId = "";
  private partialMs = 10_000;
  private fullMs = 3_600_000;
  private lastFull = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Reconcile cycles completed, full and partial (tests wait on it). */
  cycles = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: AgentkOptions) {
    this.objects = KubernetesObjectApi.makeApiClient(opts.kc);
    this.apps = opts.kc.makeApiClient(AppsV1Api);
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.log = opts.log ?? (() => {});
  }

  /** Connects (agent_info), runs the first full reconcile, then keeps reconciling until stop(). */
  async start(): Promise<this> {
    const info = (await this.gitlab("GET", "/api/v4/internal/kubernetes/agent_info")) as {
      agent_id: number;
      agent_name: string;
    };
    this.agentId = String(info.agent_id);
    this.log(`agentk: connected as agent ${info.agent_name} (${info.agent_id})`);
    await this.cycle("full");
    this.schedule();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** Runs one reconcile now (after any running one); the next timed one keeps its interval. */
  async reconcileNow(updateType: "full" | "partial" = "partial"): Promise<void> {
    await this.running?.catch(() => {});
    await this.cycle(updateType);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const type = Date.now() - this.lastFull >= this.fullMs ? "full" : "partial";
      this.running = this.cycle(type)
        .catch((err) => this.log(`agentk: ${type} reconcile failed: ${(err as Error).message}`))
        .finally(() => this.schedule());
    }, this.partialMs);
  }

  private async cycle(updateType: "full" | "partial"): Promise<void> {
    const infos = await this.workspaceInfos(updateType);
    const answer = (await this.gitlab("POST", RECONCILE_PATH, {
      update_type: updateType,
      workspace_agent_infos: infos,
    })) as {
      workspace_rails_infos: RailsInfo[];
      settings?: {
        partial_reconciliation_interval_seconds?: number;
        full_reconciliation_interval_seconds?: number;
      };
    };
    for (const info of infos) {
      const t = this.tracked.get(info.name);
      if (!t) continue;
      t.reported =
        (info.latest_k8s_deployment_info?.metadata as { resourceVersion?: string } | undefined)
          ?.resourceVersion ?? null;
      t.terminationReported = info.termination_progress;
      if (info.error_details) t.error = undefined;
      if (info.termination_progress === "Terminated") this.tracked.delete(info.name);
    }
    if (updateType === "full") this.lastFull = Date.now();
    const s = answer.settings;
    if (s?.partial_reconciliation_interval_seconds)
      this.partialMs = s.partial_reconciliation_interval_seconds * 1000;
    if (s?.full_reconciliation_interval_seconds) this.fullMs = s.full_reconciliation_interval_seconds * 1000;
    for (const rails of answer.workspace_rails_infos) await this.act(rails);
    this.cycles++;
  }

  private async act(rails: RailsInfo): Promise<void> {
    const t: Tracked = this.tracked.get(rails.name) ?? { namespace: rails.namespace, reported: undefined };
    this.tracked.set(rails.name, t);
    try {
      if (rails.desired_state === "Terminated") {
        if (t.termination !== "Terminated")
          t.termination = (await this.terminate(rails)) ? "Terminated" : "Terminating";
        return;
      }
      if (rails.config_to_apply) await this.apply(rails);
    } catch (err) {
      t.error =
        err instanceof ApiException
          ? `${err.code}: ${String(err.body).slice(0, 500)}`
          : (err as Error).message;
      this.log(`agentk: ${rails.name}: ${t.error}`);
    }
  }

  /** Applies the workspace's objects, then deletes what each inventory held before and no longer holds. */
  private async apply(rails: RailsInfo): Promise<void> {
    const objects = parseAllDocuments(rails.config_to_apply)
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => o !== null);
    await this.ensureNamespace(rails.namespace);
    const inventories = new Map<string, Set<string>>();
    for (const o of objects) {
      const owner = o.metadata?.annotations?.[OWNING_INVENTORY_ANNOTATION];
      if (owner) {
        const set = inventories.get(owner) ?? new Set<string>();
        set.add(inventoryKey(refOf(o, rails.namespace)));
        inventories.set(owner, set);
      }
    }
    const previous = new Map<string, Set<string>>();
    for (const name of inventories.keys())
      previous.set(name, await this.inventoryContents(rails.namespace, name));
    for (const o of objects) {
      const isInventory = o.metadata?.labels?.[INVENTORY_ID_LABEL] !== undefined;
      const body = isInventory
        ? {
            ...o,
            data: Object.fromEntries([...(inventories.get(o.metadata!.name!) ?? [])].map((k) => [k, ""])),
          }
        : o;
      await this.objects.patch(
        body,
        undefined,
        undefined,
        AGENTK_FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    }
    for (const [name, before] of previous) {
      const now = inventories.get(name)!;
      for (const key of before) {
        if (now.has(key)) continue;
        const ref = parseInventoryKey(key);
        if (ref) await this.deleteRef(ref);
      }
    }
  }

  /** Deletes everything the workspace's inventories hold, then the inventories; true once nothing is left. */
  private async terminate(rails: { name: string; namespace: string }): Promise<boolean> {
    const inventories = await this.core.listNamespacedConfigMap({
      namespace: rails.namespace,
      labelSelector: INVENTORY_ID_LABEL,
    });
    const mine = inventories.items.filter((cm) => cm.metadata?.name?.startsWith(`${rails.name}-`));
    for (const cm of mine) {
      for (const key of Object.keys(cm.data ?? {})) {
        const ref = parseInventoryKey(key);
        if (ref) await this.deleteRef(ref);
      }
      await this.deleteRef({
        group: "",
        kind: "ConfigMap",
        namespace: rails.namespace,
        name: cm.metadata!.name!,
      });
    }
    const pods = await this.core.listNamespacedPod({
      namespace: rails.namespace,
      labelSelector: `${AGENT_ID_LABEL}=${this.agentId}`,
    });
    return pods.items.length === 0;
  }

  private async deleteRef(ref: ObjectRef): Promise<void> {
    try {
      await this.objects.delete(
        {
          apiVersion: apiVersionOf(ref),
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        "Foreground",
      );
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }

  private async inventoryContents(namespace: string, name: string): Promise<Set<string>> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ namespace, name });
      return new Set(Object.keys(cm.data ?? {}));
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return new Set();
      throw err;
    }
  }

  private async ensureNamespace(name: string): Promise<void> {
    try {
      await this.core.readNamespace({ name });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      await this.core.createNamespace({ body: { metadata: { name } } });
    }
  }

  /**
   * What agentk tells Rails: on a full reconcile every workspace it knows; on a partial one those whose
   * Deployment changed (or vanished) since the last report, whose termination moved, or that failed to apply.
   */
  private async workspaceInfos(updateType: "full" | "partial"): Promise<AgentInfo[]> {
    const deployments = this.agentId
      ? (
          await this.apps.listDeploymentForAllNamespaces({
            labelSelector: `${AGENT_ID_LABEL}=${this.agentId}`,
          })
        ).items
      : [];
    const byName = new Map<string, V1Deployment>(deployments.map((d) => [d.metadata!.name!, d]));
    for (const d of deployments)
      if (!this.tracked.has(d.metadata!.name!))
        this.tracked.set(d.metadata!.name!, { namespace: d.metadata!.namespace!, reported: undefined });
    // Termination is followed until the pods are gone; Rails only asks again when the state moves.
    for (const [name, t] of this.tracked)
      if (t.termination === "Terminating" && (await this.terminate({ name, namespace: t.namespace })))
        t.termination = "Terminated";
    const infos: AgentInfo[] = [];
    for (const [name, t] of this.tracked) {
      const d = byName.get(name);
      const version = d?.metadata?.resourceVersion ?? null;
      const changed =
        updateType === "full" ||
        t.error !== undefined ||
        t.termination !== t.terminationReported ||
        (t.termination === undefined && version !== t.reported);
      if (!changed) continue;
      infos.push({
        name,
        namespace: t.namespace,
        ...(d && !t.termination ? { latest_k8s_deployment_info: deploymentInfo(d) } : {}),
        ...(t.termination ? { termination_progress: t.termination } : {}),
        ...(t.error ? { error_details: { error_type: "applier", error_message: t.error } } : {}),
      });
    }
    return infos;
  }

  private async gitlab(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(new URL(path, this.opts.gitlabUrl), {
      method,
      headers: {
        "Gitlab-Agent-Api-Request": this.opts.token,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const expected = method === "POST" ? 201 : 200;
    if (res.status !== expected)
      throw new Error(`${method} ${path}: unexpected status code: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }
}

/** The Deployment as agentk reports it: metadata, spec and status (JSON, as the API serves it). */
function deploymentInfo(d: V1Deployment): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({ metadata: d.metadata, spec: { replicas: d.spec?.replicas }, status: d.status }),
  );
}
