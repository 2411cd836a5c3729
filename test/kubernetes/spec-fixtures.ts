// WorkspaceSpec objects built by hand (the devfile engine produces them in the real flow) and a generator.
import fc from "fast-check";
import type { ContainerSpec, WorkspaceSpec } from "../../src/devfile/spec.ts";
import { baseContainer, baseEndpoint, baseWorkspace } from "../support/spec.ts";

export function container(name: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return baseContainer(name, { image: "registry.access.redhat.com/ubi8/nodejs-18:1-32", ...over });
}

export function workspace(over: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return baseWorkspace({
    name: "demo",
    containers: [container("tooling-container", { main: true, attributes: { "gl/inject-editor": true } })],
    ...over,
  });
}

const dnsLabel = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
const quantity = fc.constantFrom("100m", "1", "250m", "512Mi", "1Gi", "2G");

/** Any WorkspaceSpec the devfile engine could produce, for property tests of generators. */
export const arbitraryWorkspace: fc.Arbitrary<WorkspaceSpec> = fc
  .record({
    names: fc.uniqueArray(dnsLabel, { minLength: 1, maxLength: 3 }),
    volumes: fc.uniqueArray(
      dnsLabel.map((n) => `v${n}`),
      { maxLength: 2 },
    ),
    ephemeral: fc.boolean(),
    ports: fc.uniqueArray(fc.integer({ min: 1024, max: 59999 }), { maxLength: 3 }),
    env: fc.array(fc.tuple(envName, fc.string()), { maxLength: 3 }),
    mem: fc.option(quantity, { nil: undefined }),
    cpu: fc.option(quantity, { nil: undefined }),
    command: fc.option(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }), {
      nil: undefined,
    }),
    postStart: fc.array(fc.string({ minLength: 1 }), { maxLength: 2 }),
  })
  .map((r) => {
    const containers = r.names.map((n, i) =>
      container(n, {
        main: i === 0,
        env: r.env.map(([name, value]) => ({ name, value })),
        memoryLimit: r.mem,
        cpuLimit: r.cpu,
        command: i === 0 ? r.command : undefined,
        endpoints: i === 0 ? r.ports.map((p) => endpoint(`p${p}`, p)) : [],
        volumeMounts: r.volumes.map((v) => ({ name: v, path: `/data/${v}` })),
      }),
    );
    const commands = r.postStart.map((line, i) => ({
      kind: "exec" as const,
      id: `post-${i}`,
      component: r.names[0]!,
      commandLine: line,
      env: [],
      hotReloadCapable: false,
    }));
    return workspace({
      name: r.names[0]!,
      containers,
      volumes: r.volumes.map((name) => ({ name, size: "1Gi", ephemeral: r.ephemeral })),
      commands,
      events: { preStart: [], postStart: commands.map((c) => c.id), preStop: [], postStop: [] },
    });
  });

export function endpoint(name: string, targetPort: number) {
  return baseEndpoint(name, targetPort);
}
