// `wsparity live init` against a GitLab simulator over real sockets: the bootstrap's requests (recorded at the
// simulator's server) follow bootstrap-steps.ts; a second run writes nothing and leaves the settings file
// byte-identical; bad input exits 2 with a message saying what to do.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BootstrapOptions, bootstrap, defaultDevfilesDir } from "../../src/live/bootstrap.ts";
import { BOOTSTRAP_STEPS } from "../../src/live/bootstrap-steps.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { parseTierSettings } from "../../src/tier/settings.ts";
import { mainInProcess } from "../support/cli.ts";

interface Recorded {
  method: string;
  path: string;
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["bin/wsparity.js", ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const inProcess = mainInProcess;

/** The first call agentk makes on connecting (GET …/internal/kubernetes/agent_info with its token). */
async function agentkConnects(url: string, tokenFile: string): Promise<undefined> {
  const res = await fetch(`${url}/api/v4/internal/kubernetes/agent_info`, {
    headers: { authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` },
  });
  expect(res.status).toBe(200);
  return undefined;
}

describe("live init against the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let dir: string;
  const requests: Recorded[] = [];
  const options = (settingsFile: string, log: string[]): BootstrapOptions => ({
    gitlabUrl: sim.url,
    token: sim.rootToken,
    settingsFile,
    group: "wsparity",
    project: "workspaces",
    agentName: "wsparity",
    dnsZone: "workspaces.localtest",
    tunnelDomain: "tunnel.localtest",
    executors: ["shell", "docker", "kubernetes"],
    arches: ["amd64", "arm64"],
    devfilesDir: defaultDevfilesDir(),
    agentk: (tokenFile) => agentkConnects(sim.url, tokenFile),
    agentkDeadlineMs: 10_000,
    log: (line) => log.push(line),
  });

  beforeAll(async () => {
    sim = await new GitLabSimulator().start();
    (sim as unknown as { server: Server }).server.prependListener("request", (req) => {
      const path = (req.url ?? "").split("?")[0]!;
      if (!path.includes("/internal/")) requests.push({ method: req.method!, path });
    });
    dir = mkdtempSync(join(tmpdir(), "wsparity-live-init-"));
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs every step in order and its requests are the steps' API calls", async () => {
    const log: string[] = [];
    const settingsFile = join(dir, "live.yaml");
    const { settings, stateFile } = await bootstrap(options(settingsFile, log));

    const finished = log
      .filter((l) => / \(\d+\.\d s\)$/.test(l))
      .map((l) => /^\[\d+\/\d+\] ([\w-]+):/.exec(l)![1]);
    expect(finished).toEqual(BOOTSTRAP_STEPS.map((s) => s.id));
    const writes = requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual([
      "POST /api/v4/groups",
      "POST /api/v4/projects",
      "POST /api/v4/projects/1/repository/commits",
      "POST /api/v4/projects/1/repository/commits",
      "POST /api/v4/projects/1/cluster_agents",
      "POST /api/v4/projects/1/cluster_agents/1/tokens",
      "POST /api/graphql",
      "POST /api/graphql",
      "POST /api/v4/user/runners",
      "POST /api/v4/user/runners",
      "POST /api/v4/user/runners",
    ]);
    // Each step looked before it created.
    const paths = requests.map((r) => `${r.method} ${r.path}`);
    expect(paths.indexOf("GET /api/v4/groups/wsparity")).toBeLessThan(paths.indexOf("POST /api/v4/groups"));
    expect(paths.indexOf("GET /api/v4/projects/wsparity%2Fworkspaces")).toBeLessThan(
      paths.indexOf("POST /api/v4/projects"),
    );

    // What GitLab now holds, read back through its API.
    const project = (await (
      await fetch(`${sim.url}/api/v4/projects/wsparity%2Fworkspaces`, {
        headers: { "private-token": sim.rootToken },
      })
    ).json()) as { id: number; namespace: { kind: string; full_path: string } };
    expect(project.namespace).toMatchObject({ kind: "group", full_path: "wsparity" });
    const files = [...sim.store.project(project.id).repo.head("main")!.files.keys()];
    expect(files).toEqual(
      expect.arrayContaining(["devfiles/minimal.devfile.yaml", ".gitlab/agents/wsparity/config.yaml"]),
    );
    const group = sim.store.groups.get(
      [...sim.store.groups.values()].find((g) => g.path === "wsparity")!.id,
    )!;
    expect(sim.remoteDevelopment.mappings.get(group.id)).toEqual(new Set([1]));
    const tags = [...sim.store.runners.values()].map((r) => r.tags);
    expect(tags).toEqual([
      ["wsparity", "executor-shell", "arch-amd64"],
      ["wsparity", "executor-docker", "arch-amd64", "arch-arm64"],
      ["wsparity", "executor-kubernetes", "arch-amd64"],
    ]);

    expect(settings).toMatchObject({
      tier: "live",
      gitlab: { group: "wsparity", project: "wsparity/workspaces" },
      kubernetes: { agents: [{ arch: "amd64", clusterAgentId: "gid://gitlab/Clusters::Agent/1" }] },
    });
    expect(settings.ci.runners.map((r) => `${r.executor}-${r.arch}`)).toEqual([
      "shell-amd64",
      "docker-amd64",
      "docker-arm64",
      "kubernetes-amd64",
    ]);
    expect(parseTierSettings(readFileSync(settingsFile, "utf8"), settingsFile)).toEqual(settings);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(stateFile, "utf8")).toContain("glagent-");
  });

  it("a second run through the CLI finds everything: no writes, settings byte-identical", async () => {
    const settingsFile = join(dir, "live.yaml");
    const before = readFileSync(settingsFile);
    const beforeMtime = statSync(settingsFile).mtimeMs;
    requests.length = 0;
    const run = await cli(
      "live",
      "init",
      "--gitlab-url",
      sim.url,
      "--token",
      sim.rootToken,
      "--settings",
      settingsFile,
      "--agentk-timeout",
      "10",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("is current");
    // The mapping was read (group.workspacesClusterAgents, a GraphQL query: a POST that writes nothing).
    expect(run.stdout).toContain("mapping: agent 1 is mapped to wsparity (");
    expect(requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/graphql",
    ]);
    expect(readFileSync(settingsFile).equals(before)).toBe(true);
    expect(statSync(settingsFile).mtimeMs).toBe(beforeMtime);
  }, 120_000);

  it("writes the tunnel into the settings when given all three tunnel options, and refuses one alone", async () => {
    const settingsFile = join(dir, "live.yaml");
    const tokenFile = join(dir, "tunnel-admin-token");
    writeFileSync(tokenFile, "tunnel-admin-secret\n");
    const tunnel = [
      "--tunnel-url",
      "https://tunnel.example.test",
      "--tunnel-agent-url",
      "tls://tunnel.example.test:8443",
    ];
    const common = [
      "live",
      "init",
      "--gitlab-url",
      sim.url,
      "--token",
      sim.rootToken,
      "--settings",
      settingsFile,
    ];
    const alone = await inProcess(...common, "--tunnel-url", "https://tunnel.example.test");
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain(
      "all three of --tunnel-url, --tunnel-admin-token-file and --tunnel-agent-url",
    );
    const run = await cli(
      ...common,
      "--agentk-timeout",
      "10",
      ...tunnel,
      "--tunnel-admin-token-file",
      tokenFile,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(parseTierSettings(readFileSync(settingsFile, "utf8"), settingsFile).ci.tunnel).toEqual({
      url: "https://tunnel.example.test",
      adminToken: "tunnel-admin-secret",
      agentUrl: "tls://tunnel.example.test:8443",
    });
  }, 120_000);

  it("exits 2 naming the problem for an unreachable GitLab, a bad token and a GitLab too old", async () => {
    const settings = join(dir, "bad.yaml");
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const unreachable = await inProcess(
      "live",
      "init",
      "--gitlab-url",
      `http://127.0.0.1:${deadPort}`,
      "--token",
      "x",
      "--settings",
      settings,
    );
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      /cannot reach GitLab at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): check --gitlab-url/,
    );

    const badToken = await inProcess(
      "live",
      "init",
      "--gitlab-url",
      sim.url,
      "--token",
      "glpat-wrong",
      "--settings",
      settings,
    );
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toContain(
      "refused the token (401): give a personal access token with the api scope",
    );

    // A GitLab 17.7 (only its version endpoint matters: the bootstrap stops there).
    const old = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ version: "17.7.0-ee", revision: "x" }));
    });
    await new Promise<void>((r) => old.listen(0, "127.0.0.1", r));
    try {
      const port = (old.address() as { port: number }).port;
      const tooOld = await inProcess(
        "live",
        "init",
        "--gitlab-url",
        `http://127.0.0.1:${port}`,
        "--token",
        "x",
        "--settings",
        settings,
      );
      expect(tooOld.code).toBe(2);
      expect(tooOld.stderr).toContain("GitLab 18.0 or newer: this GitLab is 17.7.0-ee");
    } finally {
      await new Promise((r) => old.close(r));
    }
    expect(() => statSync(settings)).toThrow();
  }, 60_000);
});
