// Where a workspace's port is, found as the in-cluster proxy finds it: the workspace's Service (it carries
// GitLab's host-template annotation), its port, and a ready pod its selector picks.
import type { Duplex } from "node:stream";
import { CoreV1Api, type KubeConfig, type V1Service } from "@kubernetes/client-node";

export const HOST_TEMPLATE_ANNOTATION = "workspaces.gitlab.com/host-template";

/** Opens a byte stream to a port of a pod (the simulator's kubelet; a pod IP inside a real cluster). */
export type PodDialer = (namespace: string, pod: string, port: number) => Promise<Duplex>;

export class UpstreamError extends Error {
  constructor(
    readonly status: 400 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Where the proxy finds a workspace's port: one cluster, or the first of several that has the workspace. */
export interface Upstreams {
  exists(workspace: string): Promise<boolean>;
  connect(workspace: string, port: number): Promise<Duplex>;
}

export class WorkspaceUpstreams implements Upstreams {
  private readonly core: CoreV1Api;
  private services: { at: number; items: V1Service[] } | undefined;
  /** Workspace → its ready pod, as an Endpoints controller would keep it: looked up at most once a second. */
  private readonly pods = new Map<string, { at: number; pod: string }>();

  constructor(
    kc: KubeConfig,
    private readonly dial: PodDialer,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** The workspace's Service, looked up again after a second so new and removed workspaces show. */
  private async service(workspace: string): Promise<V1Service | undefined> {
    if (!this.services || Date.now() - this.services.at > 1000) {
      const list = await this.core.listServiceForAllNamespaces();
      this.services = {
        at: Date.now(),
        items: list.items.filter((s) => s.metadata?.annotations?.[HOST_TEMPLATE_ANNOTATION]),
      };
    }
    return this.services.items.find((s) => s.metadata?.name === workspace);
  }

  async exists(workspace: string): Promise<boolean> {
    return (await this.service(workspace)) !== undefined;
  }

  async connect(workspace: string, port: number): Promise<Duplex> {
    const found = await this.locate(workspace, port);
    try {
      return await this.dial(found.namespace, found.pod, found.targetPort);
    } catch (err) {
      // The pod may have gone since it was looked up (a restart): look again once before giving up.
      this.pods.delete(workspace);
      const again = await this.locate(workspace, port);
      if (again.pod === found.pod)
        throw new UpstreamError(502, `port ${port} of workspace ${workspace}: ${(err as Error).message}`);
      try {
        return await this.dial(again.namespace, again.pod, again.targetPort);
      } catch (retried) {
        throw new UpstreamError(502, `port ${port} of workspace ${workspace}: ${(retried as Error).message}`);
      }
    }
  }

  /** The workspace's ready pod and the port behind the Service's, looked up again after a second. */
  private async locate(
    workspace: string,
    port: number,
  ): Promise<{ namespace: string; pod: string; targetPort: number }> {
    const service = await this.service(workspace);
    if (!service) throw new UpstreamError(400, "could not find upstream workspace upstream not found");
    const servicePort = service.spec?.ports?.find((p) => p.port === port);
    if (!servicePort) throw new UpstreamError(400, `workspace ${workspace} exposes no port ${port}`);
    const namespace = service.metadata!.namespace!;
    const targetPort = typeof servicePort.targetPort === "number" ? servicePort.targetPort : port;
    const cached = this.pods.get(workspace);
    if (cached && Date.now() - cached.at <= 1000) return { namespace, pod: cached.pod, targetPort };
    const selector = Object.entries(service.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
    const ready = pods.items.find(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    if (!ready?.metadata?.name) {
      this.pods.delete(workspace);
      throw new UpstreamError(503, `workspace ${workspace} has no ready pod (is it stopped or starting?)`);
    }
    this.pods.set(workspace, { at: Date.now(), pod: ready.metadata.name });
    return { namespace, pod: ready.metadata.name, targetPort };
  }
}

/** Several clusters behind one proxy (a cluster per node architecture, one DNS zone): names are unique. */
export class UpstreamsAcrossClusters implements Upstreams {
  constructor(private readonly clusters: Upstreams[]) {}

  async exists(workspace: string): Promise<boolean> {
    for (const cluster of this.clusters) if (await cluster.exists(workspace)) return true;
    return false;
  }

  async connect(workspace: string, port: number): Promise<Duplex> {
    for (const cluster of this.clusters)
      if (await cluster.exists(workspace)) return cluster.connect(workspace, port);
    throw new UpstreamError(400, "could not find upstream workspace upstream not found");
  }
}
