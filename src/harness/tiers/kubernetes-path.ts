import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { WorkspaceReconciler } from "../../kubernetes/reconciler.ts";
import { defaultSettings, EDITOR_PORT, SSH_PORT, sanitizeName } from "../../kubernetes/settings.ts";
import type { Arch } from "../../report/model.ts";
import type { KubernetesSim } from "../../sim/kubernetes/index.ts";
import { RouteError, type StartedTunnelServer } from "../../tunnel/index.ts";
import type { CellContext, PathProvisioner, WorkspaceHandle } from "../workspace.ts";
import { imageFacts } from "./image-facts.ts";
import { editorAnswers, userFacingHandle, waitUntil } from "./tunnel-handle.ts";

/**
 * The Kubernetes path as GitLab runs it: the desired config applied by the reconciler (agentk's role)
 * to a cluster, and users reaching public endpoints through the workspace proxy. Here the cluster is
 * the Kubernetes simulator and the proxy is a route on the shared user listener that dials the pod.
 */
export class KubernetesPathProvisioner implements PathProvisioner {
  readonly path = "kubernetes" as const;
  private readonly core: CoreV1Api;
  private serial = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly cluster: KubernetesSim,
    private readonly tunnel: StartedTunnelServer,
    /** The image map of tiers that run images: devfile image → the local image that runs. */
    private readonly imageFor: ((reference: string, arch: Arch) => string) | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async start(cell: CellContext): Promise<WorkspaceHandle> {
    const name = `workspace-${sanitizeName(cell.scenario.name).slice(0, 24)}-${++this.serial}-${randomBytes(2).toString("hex")}`;
    const settings = defaultSettings(cell.spec.name, {
      name,
      dnsZone: this.tunnel.domain,
      userEnv: cell.scenario.workspace.variables,
      userFiles: cell.scenario.workspace.files,
    });
    const namespace = settings.namespace;
    const reconciler = new WorkspaceReconciler(this.kc, cell.spec, settings, (state) =>
      this.log(`${name}: ${state}`),
    );
    const userToken = randomBytes(18).toString("base64url");
    const publicPorts = cell.spec.containers
      .flatMap((c) => c.endpoints)
      .filter((e) => e.exposure === "public")
      .map((e) => e.targetPort);
    // A new epoch retires the tunnel's pooled keep-alive streams: after a restart or stop they would still
    // reach the old pod, which keeps answering while it terminates.
    const route = {
      workspace: name,
      ports: [...new Set([EDITOR_PORT, SSH_PORT, ...publicPorts])],
      userTokens: [userToken],
      epoch: 0,
      connect: async (port: number) => {
        const pods = await this.core.listNamespacedPod({ namespace });
        const pod = pods.items.find((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
        if (!pod?.metadata?.name) throw new RouteError(503, `workspace ${name} has no running pod`);
        try {
          return await this.cluster.connect(namespace, pod.metadata.name, port);
        } catch (err) {
          throw new RouteError(502, `pod ${pod.metadata.name} port ${port}: ${(err as Error).message}`);
        }
      },
    };
    this.tunnel.routes.register(route);
    const lifecycle = {
      restart: async () => {
        const state = await reconciler.setDesiredState("RestartRequested", cell.scenario.timeouts.startMs);
        route.epoch++;
        if (state !== "Running") throw new Error(`after RestartRequested the workspace is ${state}`);
        await waitUntil(
          "the editor to answer after the restart",
          () => editorAnswers(handle, EDITOR_PORT),
          cell.scenario.timeouts.startMs,
        );
      },
      stop: async () => {
        const state = await reconciler.setDesiredState("Stopped", cell.scenario.timeouts.startMs);
        route.epoch++;
        if (state !== "Stopped") throw new Error(`after Stopped the workspace is ${state}`);
      },
      leftovers: async () => {
        const pods = await this.core.listNamespacedPod({ namespace });
        return pods.items.map((p) => `pod ${p.metadata?.name} (${p.status?.phase})`);
      },
    };
    const handle = userFacingHandle(
      this.tunnel,
      name,
      userToken,
      {
        ...lifecycle,
        dispose: async () => {
          this.tunnel.routes.unregister(name);
          const state = await reconciler.setDesiredState("Terminated", 60_000);
          if (state !== "Terminated") throw new Error(`workspace ${name} ended ${state}, not Terminated`);
        },
      },
      { namespace, ...imageFacts(cell, this.imageFor) },
    );
    try {
      const state = await reconciler.setDesiredState("Running", cell.scenario.timeouts.startMs);
      if (state !== "Running")
        throw new Error(`the workspace reached ${state}, not Running${await this.podTroubles(namespace)}`);
      await waitUntil(
        "the editor to answer through the workspace proxy",
        () => editorAnswers(handle, EDITOR_PORT),
        cell.scenario.timeouts.startMs,
      );
    } catch (err) {
      await handle.dispose().catch((e) => this.log(`${name}: terminate failed: ${(e as Error).message}`));
      throw err;
    }
    return handle;
  }

  /** Why the workspace's containers are not running, as the pod's status says (empty when it says nothing). */
  private async podTroubles(namespace: string): Promise<string> {
    const pods = await this.core.listNamespacedPod({ namespace }).catch(() => undefined);
    const troubles = (pods?.items ?? []).flatMap((pod) =>
      (pod.status?.containerStatuses ?? []).flatMap((c) => {
        const ended = c.state?.terminated ?? c.lastState?.terminated;
        if (ended)
          return [
            `container ${c.name} exited with code ${ended.exitCode}${ended.reason ? ` (${ended.reason})` : ""}, ${c.restartCount} restart(s)`,
          ];
        if (c.state?.waiting?.reason) return [`container ${c.name} is waiting: ${c.state.waiting.reason}`];
        return [];
      }),
    );
    return troubles.length ? `: ${troubles.join("; ")}` : "";
  }
}
