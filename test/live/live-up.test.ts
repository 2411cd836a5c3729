// `live up`'s bootstrap through the live profile's hooks, against a GitLab simulator over real sockets and a fake
// compose client that records what would run in the containers (this machine cannot pull GitLab, k3s or
// gitlab-runner images, so no real container runs here): the commands, their order, a second run's idempotence,
// and `live status` reading the connections GitLab reports.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse as parseToml, stringify as tomlStringify } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { AGENTK_IMAGE, agentkManifest } from "../../src/live/agentk-manifest.ts";
import { bootstrap, defaultDevfilesDir } from "../../src/live/bootstrap.ts";
import { BOOTSTRAP_STEPS } from "../../src/live/bootstrap-steps.ts";
import { composeClient, exec } from "../../src/live/compose-client.ts";
import { readComposeFile } from "../../src/live/compose-file.ts";
import { composeUpPlan } from "../../src/live/compose-plan.ts";
import { adminTokenRuby, KAS_ADDRESS, KUBERNETES_RUNNER_NAMESPACE } from "../../src/live/live-profile.ts";
import { hasRunnerToken, registerArgv } from "../../src/live/runner-registration.ts";
import { liveStatus } from "../../src/live/status.ts";
import { liveUp, settingsFileIn, workspacesCertFile } from "../../src/live/up.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { parseTierSettings } from "../../src/tier/settings.ts";
import { mainInProcess } from "../support/cli.ts";
import { FakeCompose } from "./fake-compose.ts";

const plan = composeUpPlan(readComposeFile(), "live", {
  WSPARITY_GITLAB_LICENSE: "/licences/ee.gitlab-license",
});
const binfmtEnabled = {
  exists: () => true,
  read: () => "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n",
};

describe("live up: compose, then the bootstrap through the live profile's hooks", () => {
  let sim: GitLabSimulator;
  let dir: string;
  let compose: FakeCompose;
  const requests: string[] = [];
  const up = (log: string[], machine = binfmtEnabled) =>
    liveUp({
      compose,
      plan,
      stateDir: dir,
      ports: { gitlab: 8929, tunnel: 18080 },
      gitlabUrl: sim.url,
      executors: ["shell", "docker", "kubernetes"],
      arches: ["amd64", "arm64"],
      agentkDeadlineMs: 10_000,
      log: (line) => log.push(line),
      machine,
    });

  beforeAll(async () => {
    sim = await new GitLabSimulator().start();
    (sim as unknown as { server: Server }).server.prependListener("request", (req) => {
      requests.push(`${req.method} ${(req.url ?? "").split("?")[0]}`);
    });
    dir = mkdtempSync(join(tmpdir(), "wsparity-live-up-"));
    compose = new FakeCompose(sim, dir);
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts compose, creates root's token in the gitlab container, installs agentk, registers each runner", async () => {
    const log: string[] = [];
    const noBinfmt = { exists: () => false, read: () => "" };
    const { settings, stateFile } = await up(log, noBinfmt);

    // Every step finished, timed, in order.
    const finished = log
      .filter((l) => / \(\d+\.\d s\)$/.test(l))
      .map((l) => /^\[\d+\/\d+\] ([\w-]+):/.exec(l)?.[1])
      .filter(Boolean);
    expect(finished).toEqual(BOOTSTRAP_STEPS.map((s) => s.id));

    // What ran, in order, and with the plan's environment (the licence path compose interpolates).
    expect(
      compose.commands.map((c) =>
        `${c.kind} ${c.service ?? ""} ${c.argv?.slice(0, 2).join(" ") ?? c.profile ?? ""}`.trim(),
      ),
    ).toEqual([
      "up",
      "exec gitlab gitlab-rails runner",
      "run k3s-kubeconfig live-setup",
      "run agentk-install live-setup",
      "start workspaces-proxy live-proxy",
      "run binfmt live-setup",
      "exec runner-shell cat /etc/gitlab-runner/config.toml",
      "exec runner-shell gitlab-runner register",
      "exec runner-shell gitlab-runner verify",
      "exec runner-docker cat /etc/gitlab-runner/config.toml",
      "exec runner-docker gitlab-runner register",
      "exec runner-docker gitlab-runner verify",
      "exec runner-kubernetes cat /etc/gitlab-runner/config.toml",
      "exec runner-kubernetes gitlab-runner register",
      "exec runner-kubernetes gitlab-runner verify",
    ]);
    for (const c of compose.commands) expect(c.env).toEqual(plan.env);

    // The token gitlab-rails runner was given is the one kept (0600) and the one the settings carry.
    const ruby = compose.commands[1]!.argv![2]!;
    const adminToken = readFileSync(join(dir, "admin-token"), "utf8").trim();
    expect(ruby).toBe(adminTokenRuby(adminToken));
    expect(ruby).toContain("personal_access_tokens.create(scopes: ['api']");
    expect(statSync(join(dir, "admin-token")).mode & 0o777).toBe(0o600);
    expect(settings.gitlab.token).toBe(adminToken);

    // The agentk manifest: the agent token as a secret, agentk pinned, KAS behind GitLab's URL, gitlab resolvable.
    const manifest = join(dir, "manifests", "agentk.yaml");
    expect(statSync(manifest).mode & 0o777).toBe(0o600);
    const objects = parseAllDocuments(readFileSync(manifest, "utf8")).map((d) => d.toJS());
    expect(objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "Namespace",
      "ServiceAccount",
      "ClusterRoleBinding",
      "Secret",
      "Deployment",
    ]);
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(objects[1].metadata.name).toBe(KUBERNETES_RUNNER_NAMESPACE);
    expect(objects[4].stringData.token).toBe(state.agentToken.token);
    const pod = objects[5].spec.template.spec;
    expect(pod.containers[0].image).toBe(AGENTK_IMAGE);
    expect(pod.containers[0].args).toContain(`--kas-address=${KAS_ADDRESS}`);
    expect(pod.hostAliases).toEqual([{ ip: "172.30.57.10", hostnames: ["gitlab"] }]);

    // Each runner registered with its own token, through its template, at GitLab's compose-network URL.
    for (const executor of ["shell", "docker", "kubernetes"] as const) {
      const register = compose.commands.find(
        (c) => c.service === `runner-${executor}` && c.argv?.[1] === "register",
      )!;
      expect(register.argv).toEqual(
        registerArgv(executor, "http://gitlab:8929", state.runners[executor].token),
      );
      expect(register.argv).toContain(`/etc/wsparity-runners/${executor}.toml`);
      expect(compose.runnerConfigs.get(`runner-${executor}`)).toHaveLength(1);
    }

    // The settings: at .state/live/settings.yaml, tunnel names resolving to the published tunnel port.
    expect(parseTierSettings(readFileSync(settingsFileIn(dir), "utf8"), "settings.yaml")).toEqual(settings);
    expect(settings.ci.resolveTo).toBe("127.0.0.1:18080");
    // Workspace names resolve to the workspaces proxy on 443, whose certificate (for the zone, its own CA) was made.
    expect(settings.kubernetes.agents[0]?.resolveTo).toBe("127.0.0.1:443");
    const proxyCert = new X509Certificate(readFileSync(workspacesCertFile(dir)));
    expect(proxyCert.subjectAltName).toBe("DNS:workspaces.localtest, DNS:*.workspaces.localtest");
    expect(statSync(join(dir, "workspaces-tls", "key.pem")).mode & 0o777).toBe(0o600);
    expect(settings.ci.tunnel).toEqual({
      url: "http://127.0.0.1:18080",
      adminToken: readFileSync(join(dir, "tunnel-admin-token"), "utf8").trim(),
      agentUrl: "tcp://172.30.57.30:8091",
    });
  });

  it("a second live up reuses the token, registers nothing again and leaves the settings byte-identical", async () => {
    const before = readFileSync(settingsFileIn(dir));
    const adminToken = readFileSync(join(dir, "admin-token"), "utf8");
    compose.commands.length = 0;
    requests.length = 0;
    const log: string[] = [];
    await up(log);
    // GitLab is only read: the one POST is the mapping's GraphQL query; the runners' verify calls are theirs.
    expect(requests.filter((r) => !r.startsWith("GET ") && r !== "POST /api/v4/runners/verify")).toEqual([
      "POST /api/graphql",
    ]);
    expect(compose.execs()).toEqual([
      "runner-shell: cat /etc/gitlab-runner/config.toml",
      "runner-shell: gitlab-runner verify",
      "runner-docker: cat /etc/gitlab-runner/config.toml",
      "runner-docker: gitlab-runner verify",
      "runner-kubernetes: cat /etc/gitlab-runner/config.toml",
      "runner-kubernetes: gitlab-runner verify",
    ]);
    for (const service of ["runner-shell", "runner-docker", "runner-kubernetes"])
      expect(compose.runnerConfigs.get(service)).toHaveLength(1);
    expect(log.join("\n")).toContain("is still accepted (api scope)");
    expect(log.join("\n")).toContain("binfmt: qemu-aarch64 is registered on this host");
    expect(readFileSync(join(dir, "admin-token"), "utf8")).toBe(adminToken);
    expect(readFileSync(settingsFileIn(dir)).equals(before)).toBe(true);
  });

  it("a run with fewer executors registers only those (the state file keeps the others)", async () => {
    compose.commands.length = 0;
    await liveUp({
      compose,
      plan,
      stateDir: dir,
      ports: { gitlab: 8929, tunnel: 18080 },
      gitlabUrl: sim.url,
      executors: ["shell"],
      arches: ["amd64"],
      agentkDeadlineMs: 10_000,
      log: () => {},
    });
    expect(compose.execs().filter((e) => e.startsWith("runner-"))).toEqual([
      "runner-shell: cat /etc/gitlab-runner/config.toml",
      "runner-shell: gitlab-runner verify",
    ]);
  });

  it("a kept token GitLab no longer accepts is replaced through gitlab-rails runner", async () => {
    const old = readFileSync(join(dir, "admin-token"), "utf8").trim();
    sim.store.tokens.delete(old);
    compose.commands.length = 0;
    const log: string[] = [];
    const { settings } = await up(log);
    expect(compose.execs("gitlab")).toEqual(["gitlab: gitlab-rails runner"]);
    expect(log.join("\n")).toContain("is refused by GitLab");
    expect(settings.gitlab.token).not.toBe(old);
  });

  it("a failing register names the container, the runner and what gitlab-runner said", async () => {
    const broken = new FakeCompose(sim, dir);
    broken.exec = async (_plan, _service, argv) =>
      argv[1] === "register"
        ? { status: 1, stdout: "", stderr: "PANIC: Failed to verify the runner." }
        : { status: 1, stdout: "", stderr: "" };
    const log: string[] = [];
    const profileDir = mkdtempSync(join(tmpdir(), "wsparity-live-broken-"));
    try {
      const { LiveProfile } = await import("../../src/live/live-profile.ts");
      const profile = new LiveProfile({
        compose: broken,
        plan,
        stateDir: profileDir,
        gitlabUrl: sim.url,
        agentName: "wsparity",
        arches: ["amd64"],
        log: (l) => log.push(l),
      });
      await expect(profile.runnersReady({ shell: { id: 7, token: "glrt-x" } })).rejects.toThrow(
        /gitlab-runner register in runner-shell failed \(exit 1\) for runner 7:\nPANIC: Failed to verify/,
      );
    } finally {
      rmSync(profileDir, { recursive: true, force: true });
    }
  });
});

describe("live up when agentk never reaches GitLab", () => {
  it("gives up at the deadline, naming what it waited for and where agentk's logs are", async () => {
    const sim = await new GitLabSimulator().start();
    const dir = mkdtempSync(join(tmpdir(), "wsparity-live-noagentk-"));
    try {
      const compose = new FakeCompose(sim, dir);
      // kubectl apply succeeds, but agentk (its image not pullable, say) never calls GitLab.
      compose.run = async () => ({ status: 0, output: "" });
      await expect(
        liveUp({
          compose,
          plan,
          stateDir: dir,
          ports: { gitlab: 8929, tunnel: 18080 },
          gitlabUrl: sim.url,
          executors: ["shell"],
          arches: ["amd64"],
          agentkDeadlineMs: 1000,
          log: () => {},
          machine: binfmtEnabled,
        }),
      ).rejects.toThrow(
        /gave up after 1 s waiting for GitLab to hear from agentk \(last_used_at of agent token 1\).*kubectl -n gitlab-agent-wsparity logs deploy\/wsparity-agentk/,
      );
      // Nothing after the agentk step ran: no runner was created or registered.
      expect(compose.execs().filter((e) => e.startsWith("runner-"))).toEqual([]);
    } finally {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("live status against the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let dir: string;
  beforeAll(async () => {
    sim = await new GitLabSimulator().start();
    dir = mkdtempSync(join(tmpdir(), "wsparity-live-status-"));
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows services, each runner's connection and the agent's, as GitLab reports them", async () => {
    const compose = new FakeCompose(sim, dir);
    const settingsFile = join(dir, "settings.yaml");
    const status = async () => {
      const out: string[] = [];
      await liveStatus({ compose, plan, settingsFile, out: (l) => out.push(l) });
      return out.join("\n");
    };
    expect(await status()).toContain(
      `connections: no settings at ${settingsFile}; wsparity live up writes it`,
    );

    const { stateFile } = await bootstrap({
      gitlabUrl: sim.url,
      token: sim.rootToken,
      settingsFile,
      group: "wsparity",
      project: "workspaces",
      agentName: "wsparity",
      dnsZone: "workspaces.localtest",
      tunnelDomain: "tunnel.localtest",
      executors: ["shell", "docker"],
      arches: ["amd64"],
      devfilesDir: defaultDevfilesDir(),
      // agentk's first call with the agent token: GitLab records the token's last use.
      async agentk(tokenFile) {
        await fetch(`${sim.url}/api/v4/internal/kubernetes/agent_info`, {
          headers: { authorization: `Bearer ${readFileSync(tokenFile, "utf8").trim()}` },
        });
        return undefined;
      },
      agentkDeadlineMs: 10_000,
      log: () => {},
    });
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    compose.running = ["gitlab", "runner-shell"];
    const before = await status();
    expect(before).toContain("gitlab               running (healthy)");
    expect(before).toContain(
      `runner shell (id ${state.runners.shell.id}): never_contacted, never contacted GitLab`,
    );
    expect(before).toMatch(
      new RegExp(`agent 1: token ${state.agentToken.tokenId} active, agentk last seen \\d{4}-`),
    );

    // The shell runner contacts GitLab the way gitlab-runner verify does.
    const verified = await fetch(`${sim.url}/api/v4/runners/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: state.runners.shell.token }),
    });
    expect(verified.status).toBe(200);
    const after = await status();
    expect(after).toMatch(
      new RegExp(`runner shell \\(id ${state.runners.shell.id}\\): online, last contact \\d{4}-`),
    );
    expect(after).toContain(`runner docker (id ${state.runners.docker.id}): never_contacted`);
  });

  it("says so when GitLab does not answer", async () => {
    const settingsFile = join(dir, "settings.yaml");
    const elsewhere = join(dir, "elsewhere.yaml");
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    writeFileSync(
      elsewhere,
      readFileSync(settingsFile, "utf8").replace(sim.url, `http://127.0.0.1:${deadPort}`),
    );
    const out: string[] = [];
    await liveStatus({
      compose: new FakeCompose(sim, dir),
      plan,
      settingsFile: elsewhere,
      out: (l) => out.push(l),
    });
    expect(out.join("\n")).toContain("services: no containers of compose project wsparity-live");
    expect(out.join("\n")).toMatch(/GitLab does not answer \(ECONNREFUSED\): is the gitlab service up\?/);
  });
});

describe("the compose command lines behind exec and run", () => {
  it("docker-compose 1.29 and compose v2 get the project, the file, no TTY, and the plan's environment", async () => {
    for (const [found, command] of [
      ["docker-compose", ["docker-compose"]],
      ["docker", ["docker", "compose"]],
    ] as const) {
      const calls: { cmd: string; args: string[]; env?: Record<string, string> }[] = [];
      const sh = (cmd: string, args: string[], o: { env?: Record<string, string> } = {}) => {
        calls.push({ cmd, args, ...(o.env ? { env: o.env } : {}) });
        const detected =
          found === "docker" ? cmd === "docker" && args[0] === "compose" : cmd === "docker-compose";
        return detected
          ? { status: 0, stdout: "2.29.0\n", stderr: "" }
          : { status: 1, stdout: "", stderr: "" };
      };
      const client = await composeClient(sh);
      calls.length = 0;
      await client.exec(plan, "runner-shell", ["gitlab-runner", "verify"]);
      await client.run(plan, "agentk-install", "live-setup");
      const [, ...sub] = command;
      const base = [...sub, "-p", "wsparity-live", "-f", plan.file];
      expect(calls).toEqual([
        {
          cmd: command[0],
          args: [...base, "exec", "-T", "runner-shell", "gitlab-runner", "verify"],
          env: plan.env,
        },
        {
          cmd: command[0],
          args: [...base, "--profile", "live-setup", "run", "--rm", "agentk-install"],
          env: plan.env,
        },
      ]);
    }
  });

  it("live up refuses an unknown executor before anything starts", async () => {
    const r = await mainInProcess("live", "up", "--executors", "shell,ssh");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--executors takes a comma-separated list of shell, docker, kubernetes; got "shell,ssh"',
    );
  });

  it("a new agent token changes agentk's pod template, so kubectl apply rolls it", () => {
    const pod = (token: string) =>
      parseAllDocuments(
        agentkManifest({
          agentName: "a",
          token,
          kasAddress: KAS_ADDRESS,
          gitlabHost: { hostname: "gitlab", ip: "1.2.3.4" },
        }),
      )
        .map((d) => d.toJS())
        .find((o) => o.kind === "Deployment").spec.template.metadata.annotations;
    expect(pod("glagent-one")).toEqual(pod("glagent-one"));
    expect(pod("glagent-one")).not.toEqual(pod("glagent-two"));
  });
});

describe("commands in containers have a deadline", () => {
  it("a command past its deadline is killed and says so (exit 124)", () => {
    const started = Date.now();
    const r = exec("sleep", ["30"], { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(124);
    expect(r.stderr).toContain("sleep 30 did not finish within 0.3 s and was killed");
  });
});

describe("runner registration, pure parts", () => {
  it("the agentk manifest creates the namespace runners/live/kubernetes.toml runs jobs in", () => {
    const template = parseToml(readFileSync("runners/live/kubernetes.toml", "utf8")) as {
      runners: { kubernetes: { namespace: string } }[];
    };
    expect(template.runners[0]!.kubernetes.namespace).toBe(KUBERNETES_RUNNER_NAMESPACE);
  });

  it("register takes the token, executor, name and template; the docker executor its default image; no tags", () => {
    expect(registerArgv("docker", "http://gitlab:8929", "glrt-abc")).toEqual([
      "gitlab-runner",
      "register",
      "--non-interactive",
      "--url",
      "http://gitlab:8929",
      "--token",
      "glrt-abc",
      "--executor",
      "docker",
      "--name",
      "wsparity-docker",
      "--template-config",
      "/etc/wsparity-runners/docker.toml",
      "--docker-image",
      "wsparity/base:amd64",
    ]);
    expect(registerArgv("shell", "u", "t").join(" ")).not.toMatch(/--tag-list|--run-untagged|--docker-image/);
  });

  it("hasRunnerToken finds exactly the tokens a config.toml holds (property)", () => {
    const token = fc.stringMatching(/^glrt-[A-Za-z0-9_"\\-]{1,30}$/);
    fc.assert(
      fc.property(fc.uniqueArray(token, { minLength: 1, maxLength: 4 }), token, (tokens, other) => {
        const toml = tomlStringify({
          concurrent: 1,
          runners: tokens.map((t, i) => ({
            name: `r${i}`,
            url: "http://gitlab:8929",
            token: t,
            executor: "shell",
          })),
        });
        for (const t of tokens) expect(hasRunnerToken(toml, t)).toBe(true);
        expect(hasRunnerToken(toml, other)).toBe(tokens.includes(other));
      }),
    );
    expect(hasRunnerToken("", "glrt-x")).toBe(false);
    expect(hasRunnerToken("concurrent = 1\n", "glrt-x")).toBe(false);
  });
});
