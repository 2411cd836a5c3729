import { describe, expect, it } from "vitest";
import { podStatusText } from "../../src/sim/kubernetes/table.ts";

const pod = (status: Record<string, unknown>, deleting = false) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  status,
});
const waiting = (reason: string) => ({ state: { waiting: { reason } } });
const exited = (exitCode: number) => ({
  state: { terminated: { exitCode, reason: exitCode ? "Error" : "Completed" } },
});

describe("the STATUS column of kubectl get pods", () => {
  it.each([
    [
      pod({
        phase: "Pending",
        initContainerStatuses: [waiting("PodInitializing"), waiting("PodInitializing")],
      }),
      "Init:0/2",
    ],
    [pod({ phase: "Pending", initContainerStatuses: [exited(0), waiting("PodInitializing")] }), "Init:1/2"],
    [
      pod({ phase: "Pending", initContainerStatuses: [waiting("CrashLoopBackOff")] }),
      "Init:CrashLoopBackOff",
    ],
    [
      pod({
        phase: "Pending",
        initContainerStatuses: [exited(0)],
        containerStatuses: [waiting("ContainerCreating")],
      }),
      "ContainerCreating",
    ],
    [pod({ phase: "Running", containerStatuses: [waiting("CrashLoopBackOff")] }), "CrashLoopBackOff"],
    [pod({ phase: "Running", containerStatuses: [{ state: { running: {} } }] }), "Running"],
    [pod({ phase: "Running" }, true), "Terminating"],
  ])("%# → %s", (p, text) => {
    expect(podStatusText(p)).toBe(text);
  });
});
