// The local profile's hooks without Docker: what they ask of Compose (recorded by a fake client), the files they
// share with the containers, and the runner config the runner container reads.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ComposeClient } from "../../src/live/compose-client.ts";
import {
  DEFAULT_LOCAL_PORTS,
  LOCAL_PROJECT,
  LocalProfile,
  localEndpoints,
  localPlan,
  localPortsFrom,
  localRunnerConfig,
  prepareLocalState,
} from "../../src/live/local-profile.ts";
import { loadRunnerConfig } from "../../src/runner/config.ts";

interface Started {
  profile: string;
  services: string[];
  recreate: boolean;
}

function fakeCompose(started: Started[]): ComposeClient {
  const unused = () => Promise.reject(new Error("not used by the hooks"));
  return {
    implementation: "docker-compose-v1",
    describe: "fake",
    up: unused,
    run: unused,
    exec: unused,
    ps: unused,
    down: unused,
    async start(_plan, profile, services, opts) {
      started.push({ profile, services, recreate: opts.recreate });
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wsparity-local-hooks-"));
  dirs.push(dir);
  return dir;
}

describe("the local profile's hooks", () => {
  it("plans project wsparity-local with the local services, the ports and state folder as compose variables", () => {
    const dir = stateDir();
    const plan = localPlan(dir, { gitlab: 1, proxy: 2, tunnel: 3 });
    expect(plan.projectName).toBe(LOCAL_PROJECT);
    expect(plan.profiles).toEqual(["local"]);
    expect(plan.services.sort()).toEqual([
      "gitlab-sim",
      "kubernetes-sim",
      "tunnel-local",
      "workspaces-proxy-local",
    ]);
    expect(plan.env).toEqual({
      WSPARITY_LOCAL_STATE: dir,
      WSPARITY_LOCAL_GITLAB_PORT: "1",
      WSPARITY_LOCAL_PROXY_PORT: "2",
      WSPARITY_LOCAL_TUNNEL_PORT: "3",
    });
    expect(plan.waits.find((w) => w.service === "gitlab-sim")?.kind).toBe("healthy");
  });

  it("reads host ports from the compose variables, and names a bad one", () => {
    expect(localPortsFrom({})).toEqual(DEFAULT_LOCAL_PORTS);
    expect(localPortsFrom({ WSPARITY_LOCAL_PROXY_PORT: "4000" }).proxy).toBe(4000);
    expect(() => localPortsFrom({ WSPARITY_LOCAL_TUNNEL_PORT: "80a" })).toThrow(
      "WSPARITY_LOCAL_TUNNEL_PORT=80a is not a TCP port",
    );
  });

  it("removes what a stopped simulator will write again, keeps a running one's files and the tunnel's token", () => {
    const dir = stateDir();
    const first = prepareLocalState(dir, []).tunnelAdminToken;
    writeFileSync(join(dir, "root-token"), "old\n");
    writeFileSync(join(dir, "kubeconfig"), "old\n");
    expect(prepareLocalState(dir, ["gitlab-sim"]).tunnelAdminToken).toBe(first);
    expect(existsSync(join(dir, "root-token"))).toBe(true);
    expect(existsSync(join(dir, "kubeconfig"))).toBe(false);
    prepareLocalState(dir, []);
    expect(existsSync(join(dir, "root-token"))).toBe(false);
  });

  it("reads root's token from the file the GitLab simulator writes, and says where to look when it is missing", async () => {
    const dir = stateDir();
    const hooks = new LocalProfile(fakeCompose([]), localPlan(dir, DEFAULT_LOCAL_PORTS), dir, () => {});
    await expect(hooks.adminToken()).rejects.toThrow(`${join(dir, "root-token")} is missing`);
    writeFileSync(join(dir, "root-token"), "glpat-root\n");
    expect(await hooks.adminToken()).toBe("glpat-root");
  });

  it("starts agentk once per token, and refuses a token file the container cannot see", async () => {
    const dir = stateDir();
    const started: Started[] = [];
    const hooks = new LocalProfile(fakeCompose(started), localPlan(dir, DEFAULT_LOCAL_PORTS), dir, () => {});
    const tokenFile = join(dir, "settings.agent-token");
    writeFileSync(tokenFile, "glagent-1\n");
    expect(await hooks.agentk(tokenFile)).toBeUndefined();
    await hooks.agentk(tokenFile);
    writeFileSync(tokenFile, "glagent-2\n");
    await hooks.agentk(tokenFile);
    expect(started).toEqual([
      { profile: "local-agents", services: ["agentk"], recreate: true },
      { profile: "local-agents", services: ["agentk"], recreate: false },
      { profile: "local-agents", services: ["agentk"], recreate: true },
    ]);
    const elsewhere = join(stateDir(), "settings.agent-token");
    writeFileSync(elsewhere, "glagent-3\n");
    await expect(hooks.agentk(elsewhere)).rejects.toThrow("must be in the state folder");
  });

  it("writes the shell runner's config, which `wsparity runner run` reads, and restarts the runner only for a new token", async () => {
    const dir = stateDir();
    const started: Started[] = [];
    const hooks = new LocalProfile(fakeCompose(started), localPlan(dir, DEFAULT_LOCAL_PORTS), dir, () => {});
    await hooks.runnersReady({});
    expect(started).toEqual([]);
    await hooks.runnersReady({ shell: { id: 7, token: "glrt-seven" } });
    await hooks.runnersReady({ shell: { id: 7, token: "glrt-seven" } });
    await hooks.runnersReady({ shell: { id: 8, token: "glrt-eight" } });
    expect(started.map((s) => s.recreate)).toEqual([true, false, true]);
    const config = loadRunnerConfig(join(dir, "runner-shell.toml"), {});
    expect(config).toMatchObject({
      url: "http://gitlab-sim:8929",
      token: "glrt-eight",
      executor: "shell",
      environment: { WSPARITY_TOOLS_DIR: "/tmp/wsparity-runner/tools" },
    });
    expect(readFileSync(join(dir, "runner-shell.toml"), "utf8")).toBe(localRunnerConfig("glrt-eight"));
  });

  it("gives the bootstrap the host's view: published ports, and the tunnel as jobs inside the network dial it", () => {
    expect(localEndpoints({ gitlab: 1, proxy: 2, tunnel: 3 }, "admin")).toEqual({
      gitlabUrl: "http://127.0.0.1:1",
      resolveTo: { workspaces: "127.0.0.1:2", tunnel: "127.0.0.1:3" },
      tunnel: { url: "http://127.0.0.1:3", adminToken: "admin", agentUrl: "tcp://tunnel-local:8091" },
    });
  });
});
