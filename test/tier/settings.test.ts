import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTierSettings, type TierSettings, tierSettingsYaml } from "../../src/tier/settings.ts";

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const settings: fc.Arbitrary<TierSettings> = fc.record({
  tier: fc.constantFrom("sim" as const, "docker" as const, "live" as const),
  gitlab: fc.record({
    url: name.map((n) => `https://${n}.example.test`),
    token: fc.string({ minLength: 1, maxLength: 30 }),
    group: name,
    project: fc.tuple(name, name).map(([g, p]) => `${g}/${p}`),
  }),
  kubernetes: fc.record({
    agents: fc.array(
      fc.record(
        {
          arch: fc.constantFrom("amd64" as const, "arm64" as const),
          clusterAgentId: fc.nat().map((id) => `gid://gitlab/Clusters::Agent/${id}`),
          dnsZone: name.map((n) => `${n}.test`),
          resolveTo: fc.integer({ min: 1, max: 65535 }).map((p) => `127.0.0.1:${p}`),
        },
        { requiredKeys: ["arch", "clusterAgentId", "dnsZone"] },
      ),
      { maxLength: 2 },
    ),
  }),
  ci: fc.record({
    tunnelDomain: name.map((n) => `${n}.test`),
    runners: fc.array(
      fc.record({
        executor: fc.constantFrom("shell" as const, "docker" as const, "kubernetes" as const),
        arch: fc.constantFrom("amd64" as const, "arm64" as const),
        tags: fc.array(name, { maxLength: 3 }),
      }),
      { maxLength: 5 },
    ),
  }),
});

describe("tier settings", () => {
  it("read back exactly what was written (property)", () => {
    fc.assert(
      fc.property(settings, (s) => {
        expect(parseTierSettings(tierSettingsYaml(s), "tier.yaml")).toEqual(s);
      }),
    );
  });

  it("name file, line, column and field of every problem", () => {
    const text = `tier: sim
gitlab:
  url: gitlab.example.test
  token: glpat-x
  group: root
  project: root/workspaces
kubernetes:
  agents:
    - { arch: amd64, clusterAgentId: gid://gitlab/Project/1, dnsZone: workspaces.test }
  colour: blue
ci:
  tunnelDomain: t.test
  runners: [{ executor: podman, arch: amd64, tags: [] }]
`;
    let message = "";
    try {
      parseTierSettings(text, "tier.yaml");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('tier.yaml:3:8: gitlab.url must match pattern "^https?://"');
    expect(message).toContain("tier.yaml:9:38: kubernetes.agents.0.clusterAgentId must match pattern");
    expect(message).toContain("tier.yaml:10:11: kubernetes.colour is not a tier setting");
    expect(message).toContain(
      "tier.yaml:13:25: ci.runners.0.executor must be one of shell, docker, kubernetes",
    );
  });
});
