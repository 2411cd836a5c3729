// biome-ignore-all lint/suspicious/noTemplateCurlyInString: devfile ${VAR} syntax in working dirs, not JS templates
import { spawn } from "node:child_process";
import { chmod } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { archArm64 } from "../../src/harness/probes/arch-arm64.ts";
import { commandExec } from "../../src/harness/probes/command-exec.ts";
import { containerCommandArgs, withoutEmulator } from "../../src/harness/probes/container-command-args.ts";
import { containerEnv } from "../../src/harness/probes/container-env.ts";
import { containerImage } from "../../src/harness/probes/container-image.ts";
import { containerMulti } from "../../src/harness/probes/container-multi.ts";
import { containerResources } from "../../src/harness/probes/container-resources.ts";
import { containerUser } from "../../src/harness/probes/container-user.ts";
import { workspaceVariables } from "../../src/harness/probes/workspace-variables.ts";
import { freePort, localFixtures, staticServer } from "./local-workspace.ts";
import { container, context, endpoint, scenario, spec } from "./spec-builder.ts";

const { workspace, cleanup } = localFixtures(afterEach);

describe("container.env", () => {
  const s = spec({
    containers: [container("tooling", { main: true, env: [{ name: "GREETING", value: "hello world" }] })],
  });
  it("is supported when the declared value arrives and unsupported when it differs or is unset", async () => {
    expect(
      (await containerEnv.run(context(await workspace({ env: { GREETING: "hello world" } }), s))).status,
    ).toBe("supported");
    const wrong = await containerEnv.run(context(await workspace({ env: { GREETING: "bye" } }), s));
    expect(wrong).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining('want "hello world", got "bye"'),
    });
    const unset = await containerEnv.run(context(await workspace(), s));
    expect(unset.evidence).toContain("got unset");
  });
});

describe("container.command-args", () => {
  it("reads a foreign-architecture process's argv from behind QEMU's binfmt interpreter", () => {
    const qemu = ["/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "/usr/bin/sleep", "sleep", "86399"];
    expect(withoutEmulator(qemu)).toEqual(["sleep", "86399"]);
    expect(withoutEmulator(["/usr/bin/qemu-aarch64-static", "/bin/sh", "sh", "-c", "x"])).toEqual([
      "sh",
      "-c",
      "x",
    ]);
    expect(withoutEmulator(["sleep", "86399"])).toEqual(["sleep", "86399"]);
  });

  it("finds a process running the declared command, and reports its absence", async () => {
    const marker = String(100_000 + Math.floor(Math.random() * 800_000));
    const s = spec({
      containers: [container("tooling", { main: true, command: ["sleep"], args: [marker] })],
    });
    const ws = await workspace();
    // `sleep` exists but runs nothing: it may have started and exited, which a process list cannot tell.
    expect(await containerCommandArgs.run(context(ws, s))).toMatchObject({
      status: "inconclusive",
      reason: expect.stringContaining("may have started and exited"),
    });
    const missing = spec({
      containers: [container("tooling", { main: true, command: ["no-such-server"], args: [marker] })],
    });
    expect(await containerCommandArgs.run(context(ws, missing))).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("no-such-server is not in the main container"),
    });
    const sleeper = spawn("sleep", [marker]);
    cleanup.push(async () => sleeper.kill());
    await new Promise((r) => setTimeout(r, 100));
    expect(await containerCommandArgs.run(context(ws, s))).toMatchObject({
      status: "supported",
      outcome: "running",
      evidence: expect.stringContaining(`["sleep","${marker}"]`),
    });
  });
});

describe("container.multi", () => {
  it("sees a sidecar's port on the main container's localhost, and reports one that does not answer", async () => {
    const sidecarPort = await freePort();
    const s = spec({
      containers: [
        container("tooling", { main: true }),
        container("db", { image: "redis:7", endpoints: [endpoint("db", sidecarPort, "internal")] }),
      ],
    });
    const ws = await workspace();
    const docker = { tier: "docker" as const };
    const missing = await containerMulti.run(context(ws, s, docker));
    expect(missing).toMatchObject({
      status: "unsupported",
      evidence: `db:${sidecarPort} does not answer on the main container's 127.0.0.1`,
    });
    const sidecar = await staticServer(200, "db");
    cleanup.push(() => new Promise((r) => sidecar.close(r)));
    const s2 = spec({
      containers: [
        container("tooling", { main: true }),
        container("db", { endpoints: [endpoint("db", sidecar.port, "internal")] }),
      ],
    });
    expect((await containerMulti.run(context(ws, s2, docker))).status).toBe("supported");
  });

  it("is inconclusive, naming the cause, when the tier does not run the sidecar's server", async () => {
    const s = spec({
      containers: [
        container("tooling", { main: true }),
        container("cache", {
          image: "redis:7",
          endpoints: [endpoint("redis", await freePort(), "internal")],
        }),
      ],
    });
    const ws = await workspace();
    expect(await containerMulti.run(context(ws, s))).toMatchObject({
      status: "inconclusive",
      reason: expect.stringContaining("the sim tier does not run cache's image redis:7"),
    });
    ws.facts.imageMap = { "redis:7": "wsparity/base:latest" };
    expect(await containerMulti.run(context(ws, s, { tier: "docker" }))).toMatchObject({
      status: "inconclusive",
      reason: expect.stringContaining("runs wsparity/base:latest in place of cache's image redis:7"),
    });
  });
});

describe("tier-dependent container probes", () => {
  it("are not applicable on the sim tier, and say why", () => {
    const s = spec({ containers: [container("tooling", { main: true, memoryLimit: "512Mi" })] });
    for (const probe of [containerImage, containerResources]) {
      expect(probe.notApplicable!(context({} as never, s))).toMatch(
        /sim tier runs containers as local processes/,
      );
    }
  });

  it("container.user: supported as uid 5001, unsupported as root", async () => {
    const asRoot = await containerUser.run(context(await workspace(), spec()));
    expect(asRoot).toMatchObject({ status: "unsupported", evidence: expect.stringContaining("uid=0") });
    const ws = await workspace({ uid: 5001 });
    await chmod(ws.root, 0o777);
    expect((await containerUser.run(context(ws, spec()))).status).toBe("supported");
  });

  it("container.resources: an unlimited cgroup does not pass for a declared limit", async () => {
    const s = spec({
      containers: [container("tooling", { main: true, memoryLimit: "512Mi", cpuLimit: "500m" })],
    });
    const r = await containerResources.run(context(await workspace(), s, { tier: "docker" }));
    expect(r.status).toBe("unsupported");
    expect(r.evidence).toContain("memory limit 512Mi (536870912 bytes)");
  });

  it("container.image: a container without the built image's marker is unsupported", async () => {
    const r = await containerImage.run(context(await workspace(), spec(), { tier: "docker" }));
    expect(r).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("expected registry.example.com/tools:1"),
    });
  });

  it("arch.arm64: this amd64 host is not aarch64; amd64 cells are not applicable", async () => {
    expect(archArm64.notApplicable!(context({} as never, spec()))).toMatch(/runs amd64/);
    const r = await archArm64.run(context(await workspace(), spec(), { arch: "arm64" }));
    expect(r).toMatchObject({ status: "unsupported", evidence: expect.stringContaining("x86_64") });
  });
});

describe("workspace.variables", () => {
  it("env variables: supported when set; a file variable only reachable through $NAME is degraded; missing is unsupported", async () => {
    const vars = scenario({
      workspace: { variables: { TEAM: "remote-dev" }, files: { KUBE_TOKEN: "s3cret" } },
    });
    const ws = await workspace({
      env: { TEAM: "remote-dev", KUBE_TOKEN: "/tmp/wsparity-nonexistent-token" },
    });
    const missingFile = await workspaceVariables.run(context(ws, spec(), { scenario: vars }));
    expect(missingFile.status).toBe("unsupported");
    const { writeFile } = await import("node:fs/promises");
    const tokenFile = `${ws.root}/token`;
    await writeFile(tokenFile, "s3cret");
    const ws2 = await workspace({ env: { TEAM: "remote-dev", KUBE_TOKEN: tokenFile } });
    const moved = await workspaceVariables.run(context(ws2, spec(), { scenario: vars }));
    expect(moved).toMatchObject({
      status: "degraded",
      evidence: expect.stringContaining(`$KUBE_TOKEN points at ${tokenFile}`),
    });
    const unset = await workspaceVariables.run(context(await workspace(), spec(), { scenario: vars }));
    expect(unset.evidence).toContain('env TEAM want "remote-dev", got unset');
  });
});

describe("command.exec", () => {
  it("checks the mechanism itself and records the command's outcome, failure included; a missing workingDir is inconclusive", async () => {
    const cmd = (line: string, workingDir = "${PROJECTS_ROOT}") =>
      spec({
        commands: [
          {
            kind: "exec",
            id: "build",
            component: "tooling",
            commandLine: line,
            workingDir,
            env: [{ name: "X", value: "it's" }],
            hotReloadCapable: false,
          },
        ],
      });
    const ws = await workspace();
    const ok = await commandExec.run(context(ws, cmd('test "$X" = "it\'s" && pwd')));
    expect(ok).toMatchObject({
      status: "supported",
      evidence: expect.stringContaining(ws.projects),
      outcome: "exit 0: <workingDir>",
    });
    // The devfile's payload failing is an outcome both paths are compared on, not the mechanism failing.
    expect(await commandExec.run(context(ws, cmd("echo 'no package.json' >&2; exit 3")))).toMatchObject({
      status: "supported",
      outcome: "exit 3: no package.json",
    });
    // A server that never exits (its child holding the output open) is ended within the probe's time.
    const t0 = Date.now();
    expect(await commandExec.run(context(ws, cmd("echo serving; sleep 60 & sleep 60")))).toMatchObject({
      status: "supported",
      outcome: "exit 124 (timed out): serving",
    });
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await commandExec.run(context(ws, cmd("true", "/nonexistent/project")))).toMatchObject({
      status: "inconclusive",
      reason: expect.stringMatching(/workingDir \/nonexistent\/project does not exist/),
    });
  });
});
