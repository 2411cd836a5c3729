// The one place tests build WorkspaceSpecs by hand (the devfile engine builds them from files in production).
import type { ContainerSpec, EndpointSpec, WorkspaceSpec } from "../../src/devfile/spec.ts";

export function baseContainer(name: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: `registry.example.test/${name}:1`,
    env: [],
    endpoints: [],
    mountSources: true,
    sourceMapping: "/projects",
    volumeMounts: [],
    attributes: {},
    main: false,
    ...overrides,
  };
}

export function baseWorkspace(overrides: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return {
    name: "ws-test",
    schemaVersion: "2.2.0",
    containers: [baseContainer("tooling", { main: true })],
    volumes: [],
    commands: [],
    events: { preStart: [], postStart: [], preStop: [], postStop: [] },
    attributes: {},
    variables: {},
    ignoredComponents: [],
    ...overrides,
  };
}

export function baseEndpoint(
  name: string,
  targetPort: number,
  exposure: EndpointSpec["exposure"] = "public",
  extra: Partial<EndpointSpec> = {},
): EndpointSpec {
  return { name, targetPort, exposure, protocol: "http", secure: false, attributes: {}, ...extra };
}
