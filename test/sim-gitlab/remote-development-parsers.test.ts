import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AgentConfigError,
  readWorkspacesAgentConfig,
} from "../../src/sim/gitlab/remote-development/agent-config.ts";
import { GlobalIdError, globalId, parseGlobalId } from "../../src/sim/gitlab/remote-development/global-id.ts";

describe("global IDs", () => {
  it("round-trip any id of the right model and refuse every other string (property)", () => {
    fc.assert(
      fc.property(fc.nat(), (id) => {
        expect(
          parseGlobalId(globalId("RemoteDevelopment::Workspace", id), "RemoteDevelopment::Workspace"),
        ).toBe(id);
        expect(() => parseGlobalId(globalId("Project", id), "RemoteDevelopment::Workspace")).toThrow(
          /does not represent an instance of RemoteDevelopment::Workspace/,
        );
      }),
    );
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.startsWith("gid://")),
        (s) => {
          expect(() => parseGlobalId(s, "Project")).toThrow(GlobalIdError);
        },
      ),
    );
  });
});

describe("the agent config's remote_development section", () => {
  it("takes GitLab's defaults for what is absent", () => {
    const config = readWorkspacesAgentConfig(
      "remote_development:\n  enabled: true\n  dns_zone: ws.example.test\n",
      "c.yaml",
    )!;
    expect(config).toMatchObject({
      enabled: true,
      dnsZone: "ws.example.test",
      networkPolicyEnabled: true,
      sharedNamespace: "",
      workspacesQuota: -1,
      gitlabWorkspacesProxyNamespace: "gitlab-workspaces",
    });
    expect(config.networkPolicyEgress[0]).toEqual({
      allow: "0.0.0.0/0",
      except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    });
    expect(readWorkspacesAgentConfig("ci_access: {}\n", "c.yaml")).toBeUndefined();
  });

  it("refuses a bad value naming the file and key, whatever the value (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), (value) => {
        const text = `remote_development:\n  enabled: ${JSON.stringify(value)}\n`;
        expect(() => readWorkspacesAgentConfig(text, "agents/a/config.yaml")).toThrow(
          /agents\/a\/config\.yaml: remote_development\.enabled must be true or false/,
        );
      }),
    );
    expect(() =>
      readWorkspacesAgentConfig("remote_development:\n  enabled: true\n  dns_zone: 'not a zone'\n", "c.yaml"),
    ).toThrow(AgentConfigError);
  });
});
