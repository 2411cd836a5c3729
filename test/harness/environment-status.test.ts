// A cell that cannot start for a reason of its environment gets status `environment` with GitLab's words and
// counts as no gap: the licence missing, the agent not mapped or not connected (Kubernetes path, against the
// GitLab simulator's GraphQL API), and no runner with the job's tags (CI path, against its REST API and a tunnel).
import { readFileSync } from "node:fs";
import { Gitlab } from "@gitbeaker/rest";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { WorkspaceLauncher } from "../../src/ci/launcher.ts";
import { gitlabGraphql } from "../../src/gitlab/graphql-client.ts";
import { EnvironmentError } from "../../src/harness/environment-error.ts";
import { PROBES } from "../../src/harness/probes/index.ts";
import { runCell } from "../../src/harness/run-cell.ts";
import { CiPathProvisioner } from "../../src/harness/tiers/ci-path.ts";
import { KubernetesPathProvisioner } from "../../src/harness/tiers/kubernetes-path.ts";
import type { CellContext } from "../../src/harness/workspace.ts";
import { buildReport } from "../../src/report/build.ts";
import { reportSchemaErrors } from "../../src/report/validate.ts";
import { TunnelAdminClient } from "../../src/tunnel/admin-client.ts";
import { TunnelServerBuilder } from "../../src/tunnel/index.ts";
import { type PreparedGitLab, prepareGitLab } from "../support/remote-development.ts";
import { container, scenario, spec } from "./spec-builder.ts";

const DEVFILE = readFileSync("scenarios/devfiles/parity.devfile.yaml", "utf8");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const cell = (path: "kubernetes" | "ci"): CellContext => ({
  tier: "sim",
  path,
  executor: path === "ci" ? "shell" : null,
  arch: "amd64",
  scenario: scenario({ probes: ["container.env"], timeouts: { startMs: 3000, probeMs: 2000 } }),
  spec: spec({ containers: [container("tooling", { main: true })] }),
  devfile: parse(DEVFILE),
});

async function gitlab(licensed: boolean, mapped: boolean): Promise<PreparedGitLab> {
  const gl = await prepareGitLab({ remoteDevelopment: { licensed } });
  cleanups.push(() => gl.sim.stop());
  if (mapped)
    await gl.graphql(
      `mutation($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) { namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          namespaceId: "gid://gitlab/Namespace/1",
        },
      },
    );
  return gl;
}

function kubernetesPath(gl: PreparedGitLab): KubernetesPathProvisioner {
  return new KubernetesPathProvisioner({
    api: new Gitlab({ host: gl.url, token: gl.token }),
    graphql: gitlabGraphql(gl.url, gl.token),
    userToken: gl.token,
    projectId: gl.projectId,
    agent: {
      arch: "amd64",
      clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
      dnsZone: "workspaces.localtest",
    },
    log: () => {},
  });
}

describe("cells the environment keeps from starting", () => {
  it("Kubernetes path, no licence: GitLab's words, status environment, no features, no gap", async () => {
    const gl = await gitlab(false, false);
    const ctx = cell("kubernetes");
    const run = await runCell(
      ctx,
      kubernetesPath(gl),
      PROBES,
      undefined,
      { probeDone: () => {} },
      new AbortController().signal,
    );
    expect(run.cell.status).toBe("environment");
    expect(run.cell.reason).toMatch(/'remote_development' licensed feature is not available/);
    expect(run.cell.features).toEqual([]);
    const report = buildReport({
      runId: "r",
      startedAt: new Date(),
      finishedAt: new Date(),
      tier: "sim",
      environment: {},
      cells: [run.cell],
      scenarios: [],
    });
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.gaps).toEqual([]);
  });

  it("Kubernetes path, agent not mapped to the project's namespace", async () => {
    const gl = await gitlab(true, false);
    await expect(kubernetesPath(gl).start(cell("kubernetes"))).rejects.toSatisfy(
      (e: Error) =>
        e instanceof EnvironmentError && /must be mapped to an ancestor namespace/.test(e.message),
    );
  });

  it("Kubernetes path, agent mapped but never connected (no agentk has sent its config)", async () => {
    const gl = await gitlab(true, true);
    await expect(kubernetesPath(gl).start(cell("kubernetes"))).rejects.toSatisfy(
      (e: Error) =>
        e instanceof EnvironmentError && /No WorkspacesAgentConfig found for agent/.test(e.message),
    );
  });

  it("Kubernetes path, agent connected once and gone since: the workspace is never taken", async () => {
    const gl = await gitlab(true, true);
    const first = await gl.reconcile({ update_type: "full", workspace_agent_infos: [] });
    expect(first.status).toBe(201);
    await expect(kubernetesPath(gl).start(cell("kubernetes"))).rejects.toSatisfy(
      (e: Error) =>
        e instanceof EnvironmentError && /never took workspace .* is agentk connected\?/.test(e.message),
    );
    const left = await gl.graphql("{ currentUser { workspaces { nodes { desiredState } } } }");
    expect(left.body.data.currentUser.workspaces.nodes).toEqual([{ desiredState: "Terminated" }]);
  });

  it("CI path, no runner with the job's tags: the job stays pending", async () => {
    const gl = await gitlab(true, false);
    const adminToken = "admin-token-environment-test";
    const tunnel = await new TunnelServerBuilder()
      .withUserListener({ port: 0, host: "127.0.0.1" })
      .withAgentListener({ port: 0, host: "127.0.0.1" })
      .withAdminToken(adminToken)
      .start();
    cleanups.push(() => tunnel.stop());
    const api = new Gitlab({ host: gl.url, token: gl.token });
    const ci = new CiPathProvisioner(
      api,
      gl.projectId,
      new WorkspaceLauncher(api, gl.projectId),
      { userUrl: tunnel.userUrl, domain: tunnel.domain },
      new TunnelAdminClient({ url: tunnel.userUrl, adminToken }),
      undefined,
      () => {},
      () => tunnel.agentUrl!,
    );
    await expect(ci.start(cell("ci"))).rejects.toSatisfy(
      (e: Error) =>
        e instanceof EnvironmentError &&
        /still pending after 3000 ms: no online runner with the tags .*executor-shell/.test(e.message),
    );
  });
});
