// `wsparity sim gitlab` as its own process, through the CLI and real sockets: the URL it gives out is
// --external-url (REST, the agent's project, a job's repo_url and CI_SERVER_URL), root's token in
// --root-token-file works with @gitbeaker/rest, the remote development options reach agentk's reconcile and
// GraphQL's workspace URL, the health checks answer as GitLab's, and SIGTERM stops it with exit 0.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_CONFIG, graphqlAt } from "../support/remote-development.ts";

const EXTERNAL = "http://gitlab-sim.test:8929";
const dir = mkdtempSync(join(tmpdir(), "wsparity-sim-gitlab-"));
const tokenFile = join(dir, "root-token");
let child: ChildProcess;
let output = "";
let listening: string;
let token: string;

function simGitlab(args: string[]): ChildProcess {
  return spawn(process.execPath, ["bin/wsparity.js", "sim", "gitlab", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exited(c: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  c.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => c.once("exit", (code) => resolve({ code, stderr })));
}

beforeAll(async () => {
  child = simGitlab([
    "--listen",
    "127.0.0.1:0",
    "--external-url",
    `${EXTERNAL}/`,
    "--root-token-file",
    tokenFile,
    "--workspaces-proxy-scheme",
    "http",
    "--workspaces-proxy-port",
    "8080",
    "--partial-reconcile-interval",
    "2",
  ]);
  child.stdout!.on("data", (c: Buffer) => (output += c));
  child.stderr!.on("data", (c: Buffer) => (output += c));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+), external URL (\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", check);
      resolve(match[0]);
    };
    child.stdout!.on("data", check);
  });
  listening = /listening on (http:\/\/\S+),/.exec(line)![1]!;
  expect(line).toContain(`external URL ${EXTERNAL},`);
  token = readFileSync(tokenFile, "utf8").trim();
}, 40_000);

afterAll(() => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("wsparity sim gitlab", () => {
  it("listens on the actual port it was given (0: a free one), and writes root's token readable by its owner only", () => {
    expect(listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(listening).not.toMatch(/:0$/);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^glpat-/);
  });

  it("answers GitLab's health checks", async () => {
    const readiness = await fetch(`${listening}/-/readiness`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toEqual({ status: "ok", master_check: [{ status: "ok" }] });
    const liveness = await fetch(`${listening}/-/liveness`);
    expect([liveness.status, await liveness.json()]).toEqual([200, { status: "ok" }]);
  });

  it("gives out its external URL in REST answers, the job payload and GraphQL's workspace URL; reconciles on the given interval", async () => {
    const api = new Gitlab({ host: listening, token });
    const user = await api.Users.showCurrentUser();
    expect([user.username, user.web_url]).toEqual(["root", `${EXTERNAL}/root`]);
    // It starts empty: no project, no runner (the bootstrap makes them).
    expect(await api.Projects.all()).toEqual([]);
    expect(await api.Runners.all()).toEqual([]);

    const group = await api.Groups.create("Parity", "parity");
    const project = await api.Projects.create({ name: "workspaces", namespaceId: group.id });
    expect(project.http_url_to_repo).toBe(`${EXTERNAL}/parity/workspaces.git`);
    expect(project.web_url).toBe(`${EXTERNAL}/parity/workspaces`);
    await api.Commits.create(project.id, "main", "ci and agent", [
      { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo hi]\n" },
      {
        action: "create",
        filePath: ".devfile.yaml",
        content: readFileSync("scenarios/devfiles/parity.devfile.yaml", "utf8"),
      },
      { action: "create", filePath: ".gitlab/agents/wsparity/config.yaml", content: AGENT_CONFIG },
    ]);

    const urls = await graphqlAt(
      listening,
      token,
      `{ currentUser { webUrl } group(fullPath: "parity") { webUrl }
         project(fullPath: "parity/workspaces") { webUrl httpUrlToRepo } }`,
    );
    expect(urls.body.data).toEqual({
      currentUser: { webUrl: `${EXTERNAL}/root` },
      group: { webUrl: `${EXTERNAL}/groups/parity` },
      project: {
        webUrl: `${EXTERNAL}/parity/workspaces`,
        httpUrlToRepo: `${EXTERNAL}/parity/workspaces.git`,
      },
    });

    const runner = await api.Users.createCIRunner("instance_type", { runUntagged: true });
    await api.Pipelines.create(project.id, "main");
    const request = await fetch(`${listening}/api/v4/jobs/request`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: runner.token, info: { features: { refspecs: true } } }),
    });
    expect(request.status).toBe(201);
    const job = (await request.json()) as {
      token: string;
      git_info: { repo_url: string };
      variables: { key: string; value: string }[];
    };
    expect(job.git_info.repo_url).toBe(
      `http://gitlab-ci-token:${job.token}@gitlab-sim.test:8929/parity/workspaces.git`,
    );
    const variable = (key: string) => job.variables.find((v) => v.key === key)?.value;
    expect(variable("CI_SERVER_URL")).toBe(EXTERNAL);
    expect(variable("CI_PROJECT_URL")).toBe(`${EXTERNAL}/parity/workspaces`);

    const agent = await api.Agents.register(project.id, "wsparity");
    expect(agent.config_project.web_url).toBe(`${EXTERNAL}/parity/workspaces`);
    const tokenRes = await fetch(
      `${listening}/api/v4/projects/${project.id}/cluster_agents/${agent.id}/tokens`,
      {
        method: "POST",
        headers: { "private-token": token, "content-type": "application/json" },
        body: JSON.stringify({ name: "agentk" }),
      },
    );
    const agentToken = ((await tokenRes.json()) as { token: string }).token;
    const agentGid = `gid://gitlab/Clusters::Agent/${agent.id}`;
    const mapped = await graphqlAt(
      listening,
      token,
      `mutation map($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) {
        namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors }
      }`,
      { input: { clusterAgentId: agentGid, namespaceId: `gid://gitlab/Group/${group.id}` } },
    );
    expect(mapped.body.data.namespaceCreateRemoteDevelopmentClusterAgentMapping.errors).toEqual([]);
    const reconcile = await fetch(
      `${listening}/api/v4/internal/kubernetes/modules/remote_development/reconcile`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "Gitlab-Agent-Api-Request": agentToken },
        body: JSON.stringify({ update_type: "full", workspace_agent_infos: [] }),
      },
    );
    expect(reconcile.status).toBe(201);
    expect(((await reconcile.json()) as { settings: unknown }).settings).toMatchObject({
      partial_reconciliation_interval_seconds: 2,
    });
    const created = await graphqlAt(
      listening,
      token,
      `mutation create($input: WorkspaceCreateInput!) { workspaceCreate(input: $input) { errors workspace { name url } } }`,
      {
        input: {
          clusterAgentId: agentGid,
          projectId: `gid://gitlab/Project/${project.id}`,
          desiredState: "Running",
          projectRef: "main",
          devfilePath: ".devfile.yaml",
        },
      },
    );
    const { errors, workspace } = created.body.data.workspaceCreate;
    expect(errors).toEqual([]);
    expect(workspace.url).toMatch(new RegExp(`^http://60001-${workspace.name}\\.[^/]+:8080/`));
  });

  it("exits 2 naming the option when the port is taken or the URL is not one", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const [inUse, badUrl] = await Promise.all([
        exited(simGitlab(["--listen", `127.0.0.1:${port}`])),
        exited(simGitlab(["--listen", "127.0.0.1:0", "--external-url", "gitlab-sim:8929"])),
      ]);
      expect(inUse.code).toBe(2);
      expect(inUse.stderr).toContain(`--listen 127.0.0.1:${port}: cannot listen`);
      expect(inUse.stderr).toContain("EADDRINUSE");
      expect([badUrl.code, badUrl.stderr]).toEqual([2, expect.stringContaining("--external-url must be")]);
    } finally {
      taken.close();
    }
  }, 30_000);

  it("stops on SIGTERM with exit 0, its port closed and its token file removed", async () => {
    const done = exited(child);
    child.kill("SIGTERM");
    expect((await done).code).toBe(0);
    const port = Number(new URL(listening).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
    // Its token died with it: the file is gone, so nobody bootstraps with it.
    expect(existsSync(tokenFile)).toBe(false);
  });
});
