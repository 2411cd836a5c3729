import type { ContainerSpec, WorkspaceSpec } from "../../src/devfile/spec.ts";
import { FEATURE_IDS } from "../../src/harness/catalog.ts";
import type { ProbeContext } from "../../src/harness/probes/index.ts";
import type { Scenario } from "../../src/harness/scenario.ts";
import type { WorkspaceHandle } from "../../src/harness/workspace.ts";
import { baseContainer, baseEndpoint, baseWorkspace } from "../support/spec.ts";

export const endpoint = baseEndpoint;

export function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return baseContainer(name, { image: "registry.example.com/tools:1", ...extra });
}

export function spec(extra: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return baseWorkspace({ name: "probe-test", containers: [container("tooling", { main: true })], ...extra });
}

export function scenario(extra: Partial<Scenario> = {}): Scenario {
  return {
    name: "probe-test",
    devfile: "/dev/null",
    source: "/dev/null",
    matrix: {},
    workspace: { variables: {}, files: {} },
    probes: [...FEATURE_IDS],
    bench: { latencyRequests: 50, bulkMiB: 1 },
    timeouts: { startMs: 10_000, probeMs: 4_000 },
    ...extra,
  };
}

export function context(
  ws: WorkspaceHandle,
  s: WorkspaceSpec,
  extra: Partial<Omit<ProbeContext, "devfile">> = {},
): ProbeContext {
  return {
    tier: "sim",
    path: "ci",
    executor: "shell",
    arch: "amd64",
    scenario: scenario(),
    spec: s,
    devfile: {},
    ws,
    timeoutMs: 4_000,
    // The local workspaces of these tests start just before their context is made.
    startedAtMs: Date.now() - 60_000,
    ...extra,
  };
}
