import type { ContainerSpec, EndpointSpec, WorkspaceSpec } from "../../src/devfile/spec.ts";
import { FEATURE_IDS } from "../../src/harness/catalog.ts";
import type { ProbeContext } from "../../src/harness/probes/index.ts";
import type { Scenario } from "../../src/harness/scenario.ts";
import type { WorkspaceHandle } from "../../src/harness/workspace.ts";

export function endpoint(
  name: string,
  targetPort: number,
  exposure: EndpointSpec["exposure"] = "public",
  extra: Partial<EndpointSpec> = {},
): EndpointSpec {
  return { name, targetPort, exposure, protocol: "http", secure: false, attributes: {}, ...extra };
}

export function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: "registry.example.com/tools:1",
    env: [],
    endpoints: [],
    mountSources: true,
    sourceMapping: "/projects",
    volumeMounts: [],
    attributes: {},
    main: false,
    ...extra,
  };
}

export function spec(extra: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return {
    name: "probe-test",
    schemaVersion: "2.2.0",
    containers: [container("tooling", { main: true })],
    volumes: [],
    commands: [],
    events: { preStart: [], postStart: [], preStop: [], postStop: [] },
    attributes: {},
    variables: {},
    ignoredComponents: [],
    ...extra,
  };
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
  extra: Partial<ProbeContext> = {},
): ProbeContext {
  return {
    tier: "sim",
    path: "ci",
    executor: "shell",
    arch: "amd64",
    scenario: scenario(),
    spec: s,
    ws,
    timeoutMs: 4_000,
    ...extra,
  };
}
