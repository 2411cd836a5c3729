// The workspace proxy of the Kubernetes path: each workspace's Deployment becomes a route on the tunnel server's
// user listener (same host names <port>-<workspace>.<domain>, same auth), whose connect() dials the pod's port.
import type { Duplex } from "node:stream";
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, Watch } from "@kubernetes/client-node";
import { RouteError, type RouteTable } from "../tunnel/index.ts";
import { HOST_TEMPLATE_ANNOTATION } from "./desired-config.ts";

/** Opens a byte stream to a port of a pod (the simulator's kubelet; a port-forward on a live cluster). */
export type PodDialer = (namespace: string, pod: string, port: number) => Promise<Duplex>;

export interface WorkspaceProxyOptions {
  kc: KubeConfig;
  routes: RouteTable;
  dial: PodDialer;
  /** Tokens that let a user into every workspace this proxy serves. */
  userTokens: string[];
}

/** Watches workspace Deployments in every namespace and keeps one route per workspace on the user listener. */
export class KubernetesWorkspaceProxy {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private abort: (() => void) | undefined;
  private readonly served = new Set<string>();

  constructor(private readonly opts: WorkspaceProxyOptions) {
    this.apps = opts.kc.makeApiClient(AppsV1Api);
    this.core = opts.kc.makeApiClient(CoreV1Api);
  }

  async start(): Promise<void> {
    const list = await this.apps.listDeploymentForAllNamespaces();
    for (const d of list.items) this.register(d);
    const req = await new Watch(this.opts.kc).watch(
      "/apis/apps/v1/deployments",
      { resourceVersion: list.metadata?.resourceVersion },
      (type, d: V1Deployment) => (type === "DELETED" ? this.unregister(d) : this.register(d)),
      () => {},
    );
    this.abort = () => req.abort();
  }

  stop(): void {
    this.abort?.();
    for (const name of this.served) this.opts.routes.unregister(name);
    this.served.clear();
  }

  private register(d: V1Deployment): void {
    const name = d.metadata?.name;
    const namespace = d.metadata?.namespace;
    if (!name || !namespace || !d.metadata?.annotations?.[HOST_TEMPLATE_ANNOTATION]) return;
    const containers = d.spec?.template.spec?.containers ?? [];
    const ports = containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
    const selector = Object.entries(d.spec?.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    this.served.add(name);
    this.opts.routes.register({
      workspace: name,
      ports,
      userTokens: this.opts.userTokens,
      connect: async (port) => {
        const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
        const ready = pods.items.find(
          (p) =>
            !p.metadata?.deletionTimestamp &&
            p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        );
        if (!ready?.metadata?.name)
          throw new RouteError(503, `workspace ${name} has no ready pod (is it stopped or starting?)`);
        try {
          return await this.opts.dial(namespace, ready.metadata.name, port);
        } catch (err) {
          throw new RouteError(502, `port ${port} of workspace ${name}: ${(err as Error).message}`);
        }
      },
    });
  }

  private unregister(d: V1Deployment): void {
    const name = d.metadata?.name;
    if (name && this.served.delete(name)) this.opts.routes.unregister(name);
  }
}
