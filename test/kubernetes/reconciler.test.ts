// The reconciler (agentk's role) against the simulator: desired-state transitions, actual states as GitLab computes
// them, and data on the workspace volume kept across stop and restart. Exec goes through client-node's WebSocket.
import { PassThrough } from "node:stream";
import { CoreV1Api, Exec, type V1Status } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActualState,
  actualStateOf,
  defaultSettings,
  WorkspaceReconciler,
} from "../../src/kubernetes/index.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { type SimHandle, startSim } from "../sim-kubernetes/sim-fixture.ts";
import { describeUnless } from "../support/skip.ts";
import { workspace } from "./spec-fixtures.ts";

const deployment = (replicas: number, reason: string | undefined, status: Record<string, number> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "w", generation: 1 },
  spec: { replicas },
  status: { observedGeneration: 1, ...status, conditions: reason ? [{ type: "Progressing", reason }] : [] },
});

describe("actualStateOf (GitLab's table)", () => {
  it.each([
    [deployment(1, "NewReplicaSetCreated"), "Starting"],
    [deployment(1, "ReplicaSetUpdated", { replicas: 1, unavailableReplicas: 1 }), "Starting"],
    [deployment(1, "NewReplicaSetAvailable", { replicas: 1, availableReplicas: 1 }), "Running"],
    [deployment(1, "NewReplicaSetAvailable", { replicas: 1, unavailableReplicas: 1 }), "Failed"],
    [deployment(0, "NewReplicaSetAvailable", { replicas: 1, availableReplicas: 1 }), "Stopping"],
    [deployment(0, "NewReplicaSetAvailable"), "Stopped"],
    [deployment(1, "ProgressDeadlineExceeded"), "Failed"],
    [deployment(1, undefined), "Unknown"],
  ] as const)("%# → %s", (d, state) => {
    expect(actualStateOf(d)).toBe(state);
  });

  it("termination progress and errors win over the Deployment", () => {
    const running = deployment(1, "NewReplicaSetAvailable", { replicas: 1, availableReplicas: 1 });
    expect(actualStateOf(running, "Terminating")).toBe("Terminating");
    expect(actualStateOf(undefined, "Terminated")).toBe("Terminated");
    expect(actualStateOf(running, undefined, "apply failed")).toBe("Error");
  });
});

const missing = processKubeletUnavailable();
if (missing && process.env.CI) throw new Error(`CI must run the reconciler test: ${missing}`);

describeUnless(missing)("WorkspaceReconciler on the sim tier", () => {
  let h: SimHandle;
  beforeAll(async () => {
    h = await startSim();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function execIn(
    pod: string,
    ns: string,
    command: string[],
  ): Promise<{ out: string; status: V1Status }> {
    const stdout = new PassThrough();
    let out = "";
    stdout.on("data", (d) => (out += d));
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(h.kc)
        .exec(ns, pod, "tooling-container", command, stdout, new PassThrough(), null, false, (s) =>
          resolve(s),
        )
        .catch(reject);
    });
    return { out, status };
  }

  it("Stopped → Running → RestartRequested → Terminated, keeping workspace data across stop and restart", {
    timeout: 180_000,
  }, async () => {
    const seen: ActualState[] = [];
    const settings = defaultSettings("reconcile", { desiredState: "Stopped" });
    const r = new WorkspaceReconciler(h.kc, workspace(), settings, (s) => seen.push(s));
    const core = h.kc.makeApiClient(CoreV1Api);
    const podName = async () => {
      const pods = await core.listNamespacedPod({ namespace: settings.namespace });
      return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    };

    expect(await r.setDesiredState("Stopped")).toBe("Stopped");
    expect(await podName()).toEqual([]);

    expect(await r.setDesiredState("Running")).toBe("Running");
    const [first] = await podName();
    const wrote = await execIn(first!, settings.namespace, [
      "sh",
      "-c",
      "echo kept > /projects/data.txt && echo ok",
    ]);
    expect(wrote).toMatchObject({ out: "ok\n", status: { status: "Success" } });
    const failed = await execIn(first!, settings.namespace, ["sh", "-c", "exit 4"]);
    expect(failed.status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode" });

    expect(await r.setDesiredState("Stopped")).toBe("Stopped");
    expect(await podName()).toEqual([]);
    expect(await r.setDesiredState("Running")).toBe("Running");

    seen.length = 0;
    expect(await r.setDesiredState("RestartRequested")).toBe("Running");
    expect(seen).toContain("Stopped");
    expect(seen.at(-1)).toBe("Running");
    const [afterRestart] = await podName();
    expect(afterRestart).not.toBe(first);
    expect((await execIn(afterRestart!, settings.namespace, ["cat", "/projects/data.txt"])).out).toBe(
      "kept\n",
    );

    expect(await r.setDesiredState("Terminated")).toBe("Terminated");
    expect(await podName()).toEqual([]);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: settings.namespace });
    expect(claims.items).toEqual([]);
  });
});
