import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import {
  cleanupByLabel,
  dockerEngine,
  MANAGED_LABEL,
  OWNER_PID_LABEL,
  RUN_LABEL,
  type StartedWorkspaceContainer,
  WorkspaceContainer,
  WorkspaceNetwork,
  WorkspaceVolume,
} from "../../src/containers/index.ts";
import { hostArch, localImageName } from "../../src/images/index.ts";
import { describeUnless } from "../support/skip.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "./docker-available.ts";
import { httpGetText } from "./http-get.ts";

const docker = await dockerForTests();
const NODE_IMAGE = localImageName("node", hostArch());
const SLEEP = ["sleep", "infinity"];
const HTTP_SERVER = [
  "node",
  "-e",
  "require('http').createServer((q, s) => s.end('hello from ' + process.arch)).listen(8080)",
];

async function until<T>(attempt: () => Promise<T>, seconds = 15): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const fetchInside = (url: string) => [
  "node",
  "-e",
  `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(String(e)); process.exit(1); })`,
];

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("container layer (Docker engine)", () => {
  afterAll(async () => {
    await cleanupByLabel("own");
  });

  it("applies env, user, working dir and labels, and runs commands with exec", async () => {
    const container = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(SLEEP)
      .withEnv({ GREETING: "hi" })
      .withEnv("EMPTY", "")
      .withUser("5001:5001")
      .withWorkingDir("/tmp")
      .withLabels({ "io.wsparity.test": "layer" })
      .start();
    const id = await container.exec(["sh", "-c", 'echo "$(id -u):$(id -g) $GREETING $(pwd)"']);
    expect(id).toMatchObject({ exitCode: 0, stdout: "5001:5001 hi /tmp\n" });
    expect(await container.exec(["id", "-u"], { user: "0" })).toMatchObject({ stdout: "0\n" });
    expect((await container.exec(["sh", "-c", "exit 3"])).exitCode).toBe(3);
    const labels = (await container.inspect()).Config.Labels;
    expect(labels).toMatchObject({
      "io.wsparity.test": "layer",
      [MANAGED_LABEL]: "true",
      [OWNER_PID_LABEL]: String(process.pid),
    });
    expect(labels[RUN_LABEL]).toBeTruthy();
  });

  it("limits memory and CPU", async () => {
    const container = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(SLEEP)
      .withMemoryLimit("96Mi")
      .withCpuLimit(0.5)
      .start();
    const limit = await container.exec([
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    expect(Number(limit.stdout)).toBe(96 * 1024 * 1024);
    expect((await container.inspect()).HostConfig.NanoCpus).toBe(500_000_000);
  });

  it("publishes a port on 127.0.0.1 only, and lets a sidecar share the container's localhost", async () => {
    const server = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(HTTP_SERVER)
      .withPublishedPort(8080)
      .start();
    const port = await server.hostPort(8080);
    const bindings = (await server.inspect()).NetworkSettings.Ports["8080/tcp"];
    expect(bindings?.map((b) => b.HostIp)).toEqual(["127.0.0.1"]);
    const body = await until(() => httpGetText(`http://127.0.0.1:${port}/`));
    expect(body).toBe(`hello from ${process.arch}`);

    const sidecar = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(SLEEP)
      .withNetworkMode(`container:${server.id}`)
      .start();
    expect(await sidecar.exec(fetchInside("http://127.0.0.1:8080/"))).toMatchObject({
      exitCode: 0,
      stdout: `hello from ${process.arch}`,
    });
  });

  it("joins a labelled network under an alias, and shares a labelled volume", async () => {
    const network = await new WorkspaceNetwork(`wsparity-test-${process.pid}`).create();
    const volume = await new WorkspaceVolume(`wsparity-test-${process.pid}`).create();
    const engine = dockerEngine();
    expect((await engine.getNetwork(network.id).inspect()).Labels).toMatchObject({ [MANAGED_LABEL]: "true" });
    expect((await engine.getVolume(volume.name).inspect()).Labels).toMatchObject({ [MANAGED_LABEL]: "true" });

    await new WorkspaceContainer(NODE_IMAGE).withCommand(HTTP_SERVER).withNetwork(network, ["svc"]).start();
    const writer = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(SLEEP)
      .withNetwork(network)
      .withBind(volume, "/data")
      .start();
    expect(await until(() => expectOk(writer.exec(fetchInside("http://svc:8080/"))))).toBe(
      `hello from ${process.arch}`,
    );
    await writer.exec(["sh", "-c", "echo shared > /data/file"]);
    const reader = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(["cat", "/data/file"])
      .withBind(volume, "/data", "ro")
      .start();
    expect(await reader.wait()).toBe(0);
    expect((await reader.logs()).stdout).toBe("shared\n");
  });

  it("copies a host file into a container", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-copy-"));
    writeFileSync(join(dir, "agent.mjs"), "console.log('copied agent runs')\n", { mode: 0o755 });
    try {
      const container = await new WorkspaceContainer(NODE_IMAGE).withCommand(SLEEP).start();
      await container.exec(["mkdir", "-p", "/opt/injected"]);
      await container.copyFileIn(join(dir, "agent.mjs"), "/opt/injected");
      expect(await container.exec(["node", "/opt/injected/agent.mjs"])).toMatchObject({
        exitCode: 0,
        stdout: "copied agent runs\n",
      });
      expect((await container.exec(["stat", "-c", "%a", "/opt/injected/agent.mjs"])).stdout).toBe("755\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps stdout and stderr apart in logs, and stops", async () => {
    const container = await new WorkspaceContainer(NODE_IMAGE)
      .withCommand(["sh", "-c", "echo out; echo err >&2; exec sleep infinity"])
      .withInit()
      .start();
    expect(await until(async () => expectLogs(container))).toEqual({ stdout: "out\n", stderr: "err\n" });
    await container.stop(2);
    expect((await container.inspect()).State.Running).toBe(false);
    await container.remove();
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("refuses an image of another architecture than asked, and an image that is not here", async () => {
    const other = hostArch() === "amd64" ? "arm64" : "amd64";
    await expect(
      new WorkspaceContainer(localImageName("base", other)).withPlatform(hostArch()).start(),
    ).rejects.toThrow(`built for ${other}, but the container must run as ${hostArch()}`);
    await expect(new WorkspaceContainer("registry.example.com/absent/image:1").start()).rejects.toThrow(
      /no registry is reachable.*npm run images:build/,
    );
  });

  it("removes everything it made with cleanupByLabel", async () => {
    await new WorkspaceContainer(NODE_IMAGE).withCommand(SLEEP).start();
    const removed = await cleanupByLabel("own");
    expect(removed.containers).toBeGreaterThan(0);
    const filters = { label: [`${OWNER_PID_LABEL}=${process.pid}`] };
    const engine = dockerEngine();
    expect(await engine.listContainers({ all: true, filters })).toEqual([]);
    expect(await engine.listNetworks({ filters })).toEqual([]);
    expect((await engine.listVolumes({ filters })).Volumes ?? []).toEqual([]);
  });
});

async function expectOk(
  result: Promise<{ exitCode: number; stdout: string; stderr: string }>,
): Promise<string> {
  const { exitCode, stdout, stderr } = await result;
  if (exitCode !== 0) throw new Error(`exit ${exitCode}: ${stderr}`);
  return stdout;
}

async function expectLogs(container: StartedWorkspaceContainer): Promise<{ stdout: string; stderr: string }> {
  const logs = await container.logs();
  if (!logs.stderr) throw new Error("no output yet");
  return logs;
}
