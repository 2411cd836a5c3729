import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import {
  cleanupByLabel,
  dockerEngine,
  OWNER_PID_LABEL,
  WorkspaceContainer,
} from "../../src/containers/index.ts";
import { hostArch, localImageName } from "../../src/images/index.ts";
import { describeUnless } from "../support/skip.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "./docker-available.ts";

const docker = await dockerForTests();
const FIXTURE = fileURLToPath(new URL("fixtures/hold-resources.ts", import.meta.url));

async function resourcesOf(pid: number): Promise<{ containers: number; networks: number; volumes: number }> {
  const engine = dockerEngine();
  const filters = { label: [`${OWNER_PID_LABEL}=${pid}`] };
  return {
    containers: (await engine.listContainers({ all: true, filters })).length,
    networks: (await engine.listNetworks({ filters })).length,
    volumes: ((await engine.listVolumes({ filters })).Volumes ?? []).length,
  };
}

/** Starts the fixture, waits for "ready", checks its resources exist, then ends it as `end` says. */
async function runFixture(
  mode: string,
  end: (pid: number) => void,
): Promise<{ pid: number; code: number | null }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, "exit");
  let output = "";
  const ready = new Promise<void>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready")) resolve();
    });
  });
  await Promise.race([ready, exited]);
  const pid = child.pid!;
  if (!output.includes("ready")) throw new Error(`fixture did not get ready: ${stderr}`);
  if (mode === "wait") {
    expect(await resourcesOf(pid)).toEqual({ containers: 1, networks: 1, volumes: 1 });
    end(pid);
  }
  const [code] = (await exited) as [number | null];
  return { pid, code };
}

const nothing = { containers: 0, networks: 0, volumes: 0 };

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("cleanup by label", () => {
  afterAll(async () => {
    await cleanupByLabel("own");
  });

  it("a run that exits normally leaves no container, network or volume", async () => {
    const { pid, code } = await runFixture("exit", () => undefined);
    expect(code).toBe(0);
    expect(await resourcesOf(pid)).toEqual(nothing);
  });

  it("a run that fails with an uncaught error leaves nothing", async () => {
    const { pid, code } = await runFixture("throw", () => undefined);
    expect(code).toBe(1);
    expect(await resourcesOf(pid)).toEqual(nothing);
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("a run interrupted with %s leaves nothing and exits %i", async (signal, expected) => {
    const { pid, code } = await runFixture("wait", (p) => process.kill(p, signal));
    expect(code).toBe(expected);
    expect(await resourcesOf(pid)).toEqual(nothing);
  });

  it("what a killed run left is removed at the start of the next, without touching a live run's", async () => {
    const mine = await new WorkspaceContainer(localImageName("base", hostArch()))
      .withCommand(["sleep", "infinity"])
      .start();
    const { pid } = await runFixture("wait", (p) => process.kill(p, "SIGKILL"));
    expect(await resourcesOf(pid)).toEqual({ containers: 1, networks: 1, volumes: 1 });
    const removed = await cleanupByLabel("stale");
    expect(removed).toMatchObject({ containers: expect.any(Number), networks: expect.any(Number) });
    expect(await resourcesOf(pid)).toEqual(nothing);
    expect((await mine.inspect()).State.Running).toBe(true);
  });
});
