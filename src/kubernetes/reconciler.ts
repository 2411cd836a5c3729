// agentk's role for a workspace: apply the desired config with server-side apply, drive the desired state, and
// report the actual state computed from the Deployment.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import type { WorkspaceSpec } from "../devfile/spec.ts";
import { type ActualState, actualStateOf, type TerminationProgress } from "./actual-state.ts";
import { desiredConfig } from "./desired-config.ts";
import type { KubeObject } from "./objects.ts";
import type { DesiredState, WorkspaceSettings } from "./settings.ts";

export const FIELD_MANAGER = "agentk";

export type ReconcileProgress = (state: ActualState) => void;

export class WorkspaceReconciler {
  private readonly objects: KubernetesObjectApi;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private termination: TerminationProgress | undefined;

  constructor(
    kc: KubeConfig,
    private readonly spec: WorkspaceSpec,
    private settings: WorkspaceSettings,
    private readonly onState: ReconcileProgress = () => {},
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Moves the workspace to a desired state and resolves with the actual state it settles in. */
  async setDesiredState(desired: DesiredState, timeoutMs = 60_000): Promise<ActualState> {
    switch (desired) {
      case "Running":
        await this.apply("Running");
        return this.waitFor(["Running", "Failed"], timeoutMs);
      case "Stopped":
        await this.apply("Stopped");
        return this.waitFor(["Stopped", "Failed"], timeoutMs);
      case "RestartRequested": {
        // GitLab: RestartRequested scales to 0; once the workspace reports Stopped, the desired state becomes Running.
        await this.apply("RestartRequested");
        const stopped = await this.waitFor(["Stopped", "Failed"], timeoutMs);
        if (stopped !== "Stopped") return stopped;
        await this.apply("Running");
        return this.waitFor(["Running", "Failed"], timeoutMs);
      }
      case "Terminated":
        return this.terminate(timeoutMs);
    }
  }

  /** The actual state now. */
  async actualState(): Promise<ActualState> {
    if (this.termination) return this.termination;
    try {
      const d = await this.apps.readNamespacedDeployment({
        namespace: this.settings.namespace,
        name: this.settings.name,
      });
      return actualStateOf(d as unknown as KubeObject);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return "CreationRequested";
      return actualStateOf(undefined, undefined, String(err));
    }
  }

  private async apply(desired: DesiredState): Promise<void> {
    this.settings = { ...this.settings, desiredState: desired };
    this.termination = undefined;
    await this.ensureNamespace();
    for (const o of desiredConfig(this.spec, this.settings)) {
      await this.objects.patch(
        o as KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    }
  }

  private async ensureNamespace(): Promise<void> {
    try {
      await this.core.readNamespace({ name: this.settings.namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      await this.core.createNamespace({ body: { metadata: { name: this.settings.namespace } } });
    }
  }

  private async terminate(timeoutMs: number): Promise<ActualState> {
    this.termination = "Terminating";
    this.onState("Terminating");
    for (const o of desiredConfig(this.spec, this.settings).reverse()) {
      try {
        await this.objects.delete(
          o as KubernetesObject,
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
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pods = await this.core.listNamespacedPod({
        namespace: this.settings.namespace,
        labelSelector: Object.entries({
          ...this.settings.labels,
          "agent.gitlab.com/id": this.settings.agentId,
        })
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
      });
      if (!pods.items.length) break;
      if (Date.now() > deadline) return "Terminating";
      await sleep(200);
    }
    this.termination = "Terminated";
    this.onState("Terminated");
    return "Terminated";
  }

  private async waitFor(states: ActualState[], timeoutMs: number): Promise<ActualState> {
    const deadline = Date.now() + timeoutMs;
    let last: ActualState | undefined;
    for (;;) {
      const state = await this.actualState();
      if (state !== last) this.onState(state);
      last = state;
      if (states.includes(state)) return state;
      if (Date.now() > deadline) return state;
      await sleep(150);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
