// End to end on the sim tier: a devfile's workspace is created through gitbeaker, the shell runner
// picks the job, the agent dials the tunnel, and the editor answers through the tunnel URL; stop
// cancels the job and frees everything; restart brings it back with a new pipeline. A graceful stop (the
// agent asked to stop through the tunnel) ends the job successfully, so the volumes' cache is saved and a
// restart finds the files again; an agent that does not answer is cancelled as before.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LaunchedWorkspace, type LaunchOptions, WorkspaceLauncher } from "../../src/ci/index.ts";
import { loadDevfile, parseDevfileText, type WorkspaceSpec } from "../../src/devfile/index.ts";
import { prepareShellTools, ShellExecutor } from "../../src/runner/index.ts";
import { type StartedTunnelServer, TunnelServerBuilder } from "../../src/tunnel/index.ts";
import { type SimTier, startSimTier, waitFor } from "./helpers.ts";

let tier: SimTier;
let tunnel: StartedTunnelServer;
let launcher: WorkspaceLauncher;
let spec: WorkspaceSpec;
let options: LaunchOptions;
let editorPort: number;
let projectId: number;
const userToken = randomBytes(18).toString("base64url");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Alive and not a zombie waiting to be reaped. */
function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Runs a command in the workspace through the editor's exec API, through the tunnel. */
async function workspaceExec(
  command: string,
  ws = { workspace: options.workspace, port: editorPort },
): Promise<{ exitCode: number | null; stdout: string }> {
  const res = await fetch(`${tunnel.userUrl}/-/ws/${ws.workspace}/${ws.port}/api/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${userToken}`, "content-type": "application/json" },
    body: JSON.stringify({ command }),
  });
  return (await res.json()) as { exitCode: number | null; stdout: string };
}

async function editorInfo(
  ws = { workspace: options.workspace, port: editorPort },
): Promise<{ editor: string; workspaceDir: string; pid: number } | undefined> {
  try {
    const res = await fetch(`${tunnel.userUrl}/-/ws/${ws.workspace}/${ws.port}/api/info`, {
      headers: { authorization: `Bearer ${userToken}` },
    });
    return res.status === 200 ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  const tools = await prepareShellTools(join(mkdtempSync(join(tmpdir(), "wsparity-tools-")), "tools"));
  tier = await startSimTier(new ShellExecutor(), ["wsparity", "executor-shell", "arch-amd64"], {
    WSPARITY_TOOLS_DIR: tools,
  });
  const agentToken = randomBytes(24).toString("base64url");
  const workspace = `ws-${randomBytes(3).toString("hex")}`;
  tunnel = await new TunnelServerBuilder()
    .withDomain("localtest")
    .withAgentListener({ port: 0 })
    .withWorkspace({ workspace, agentToken, userTokens: [userToken] })
    .start();
  const loaded = await loadDevfile("test/fixtures/devfiles/registry/nodejs-2.2.1.yaml");
  if (!loaded.ok) throw new Error("the nodejs devfile should load");
  spec = loaded.spec;
  // The shell executor shares the host's ports: give this workspace's editor a free one.
  editorPort = await freePort();
  options = {
    executor: "shell",
    arch: "amd64",
    workspace,
    tunnelUrl: tunnel.agentUrl!,
    agentToken,
    variables: [
      { key: "WSPARITY_EDITOR_PORT", value: String(editorPort) },
      { key: "WSPARITY_PORTS", value: String(editorPort) },
    ],
  };
  const project = await tier.api.Projects.create({ name: "workspace-project", initializeWithReadme: true });
  projectId = project.id;
  launcher = new WorkspaceLauncher(tier.api, project.id);
}, 120_000);

afterAll(async () => {
  await tier?.stop();
  await tunnel?.stop();
});

describe("a CI-path workspace on the shell executor", () => {
  let first: LaunchedWorkspace;

  it("starts from the devfile through gitbeaker and answers through the tunnel URL", async () => {
    first = await launcher.start(spec, options);
    await launcher.waitFor(first, ["running"]);
    const info = await waitFor("the editor through the tunnel", editorInfo, 30_000);
    expect(info.editor).toBe("wsparity-editor");
    expect(info.workspaceDir).toContain(`/${first.jobId}/root/workspace-project`);
    const wrote = await workspaceExec(
      "mkdir -p .wsparity/volumes/data && echo kept > .wsparity/volumes/data/marker",
    );
    expect(wrote.exitCode).toBe(0);
  });

  it("stop cancels the job and frees the build folder, the agent and the editor", async () => {
    const { pid } = (await editorInfo())!;
    expect(await launcher.stop(first)).toBe("canceled");
    await waitFor("the editor to stop answering", async () => ((await editorInfo()) ? undefined : true));
    await waitFor("the build folder to go", async () =>
      existsSync(join(tier.dirs.builds, String(first.jobId))) ? undefined : true,
    );
    await waitFor("the editor process to end", async () => (processAlive(pid) ? undefined : true), 10_000);
  });

  it("restart creates a new pipeline and the workspace answers again", async () => {
    const second = await launcher.restart(first, spec, options);
    expect(second.pipelineId).not.toBe(first.pipelineId);
    await launcher.waitFor(second, ["running"]);
    const info = await waitFor("the editor after restart", editorInfo, 30_000);
    expect(info.workspaceDir).toContain(`/${second.jobId}/`);
    // A canceled job does not archive the cache, so what the first run wrote to its volume is not back.
    const read = await workspaceExec("cat .wsparity/volumes/data/marker");
    expect(read.exitCode).not.toBe(0);
    expect(String(await tier.api.Jobs.showLog(projectId, first.jobId))).not.toContain("Created cache");
    await launcher.stop(second);
  });
});

describe("a graceful stop of a CI-path workspace on the shell executor", () => {
  const workspace = `ws-${randomBytes(3).toString("hex")}`;
  const agentToken = randomBytes(24).toString("base64url");
  let ws: { workspace: string; port: number };
  let volumeSpec: WorkspaceSpec;
  let volumeOptions: LaunchOptions;
  let first: LaunchedWorkspace;
  let second: LaunchedWorkspace;
  const askAgent = () => tunnel.workspaces.get(workspace)!.requestStop(5000);
  const trace = async (job: LaunchedWorkspace) => String(await tier.api.Jobs.showLog(projectId, job.jobId));
  /** The trace reaches GitLab in updates: waits until it shows `pattern`. */
  const traceShows = (job: LaunchedWorkspace, pattern: RegExp) =>
    waitFor(
      `job ${job.jobId}'s trace to show ${pattern}`,
      async () => pattern.exec(await trace(job)) ?? undefined,
    );

  beforeAll(async () => {
    const loaded = await parseDevfileText(
      [
        "schemaVersion: 2.2.0",
        "metadata: {name: stop}",
        "components:",
        "  - name: tooling",
        "    attributes: {gl/inject-editor: true}",
        "    container:",
        "      image: alpine:3.20",
        "      volumeMounts: [{name: data, path: /data}, {name: scratch, path: /scratch}]",
        "  - name: data",
        "    volume: {size: 1Gi}",
        "  - name: scratch",
        "    volume: {size: 1Gi, ephemeral: true}",
      ].join("\n"),
      "stop.devfile.yaml",
    );
    if (!loaded.ok) throw new Error(`the devfile should load: ${JSON.stringify(loaded.errors)}`);
    volumeSpec = loaded.spec;
    ws = { workspace, port: await freePort() };
    tunnel.workspaces.add({ workspace, agentToken, userTokens: [userToken] });
    volumeOptions = {
      ...options,
      workspace,
      agentToken,
      variables: [
        { key: "WSPARITY_EDITOR_PORT", value: String(ws.port) },
        { key: "WSPARITY_PORTS", value: String(ws.port) },
      ],
    };
  });

  it("asks the agent to stop: the job ends successfully and the runner saves the volume's cache", async () => {
    first = await launcher.start(volumeSpec, volumeOptions);
    await launcher.waitFor(first, ["running"]);
    await waitFor("the editor through the tunnel", () => editorInfo(ws), 30_000);
    const wrote = await workspaceExec(
      "echo kept-by-the-cache > .wsparity/volumes/data/marker && echo gone > .wsparity/ephemeral/scratch/marker",
      ws,
    );
    expect(wrote.exitCode).toBe(0);

    expect(await launcher.stop(first, 60_000, askAgent)).toBe("success");
    expect(await trace(first)).toMatch(
      new RegExp(`Created cache wsparity-workspace-${workspace} \\(\\.wsparity/volumes\\)`),
    );
    expect(tunnel.workspaces.get(workspace)!.online).toBe(false);
    // The agent stays down: nothing reconnects for the finished job.
    await new Promise((r) => setTimeout(r, 1000));
    expect(tunnel.workspaces.get(workspace)!.online).toBe(false);
    expect(await askAgent()).toBe(false);
  });

  it("restart brings the volume's file back, and the ephemeral volume starts empty", async () => {
    second = await launcher.restart(first, volumeSpec, volumeOptions, askAgent);
    await launcher.waitFor(second, ["running"]);
    await waitFor("the editor after restart", () => editorInfo(ws), 30_000);
    await traceShows(second, new RegExp(`Successfully extracted cache wsparity-workspace-${workspace}\\b`));
    const read = await workspaceExec("cat .wsparity/volumes/data/marker", ws);
    expect(read).toMatchObject({ exitCode: 0, stdout: "kept-by-the-cache\n" });
    // The ephemeral volume is not in the cache: it starts empty.
    expect(await workspaceExec("ls -A .wsparity/ephemeral/scratch", ws)).toMatchObject({
      exitCode: 0,
      stdout: "",
    });
  });

  it("a stop whose agent does not answer still cancels the job", async () => {
    const pid = Number((await traceShows(second, /agent pid (\d+)/))[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGSTOP");
    try {
      const started = Date.now();
      expect(
        await launcher.stop(second, 30_000, () => tunnel.workspaces.get(workspace)!.requestStop(1000)),
      ).toBe("canceled");
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(await trace(second)).not.toContain("Created cache");
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Already gone with the canceled job.
      }
    }
    await waitFor("the agent process to end", async () => (processAlive(pid) ? undefined : true), 10_000);
  });
});

describe("two CI-path workspaces at once on one shell runner, whose host ports they share", () => {
  it("each editor takes a free port and is reached as the declared 60001, even with 60001 taken on the host", async () => {
    // Something else holds 60001 on the runner host (this listener, or whatever already had it): an editor on
    // the fixed port could not listen.
    const squatter = createServer().listen(60001, "127.0.0.1");
    await new Promise<void>((done) => {
      squatter.once("listening", () => done());
      squatter.once("error", () => done());
    });
    const launched: LaunchedWorkspace[] = [];
    try {
      const workspaces = await Promise.all(
        [1, 2].map(async () => {
          const workspace = `ws-${randomBytes(3).toString("hex")}`;
          const agentToken = randomBytes(24).toString("base64url");
          tunnel.workspaces.add({ workspace, agentToken, userTokens: [userToken] });
          const job = await launcher.start(spec, {
            executor: "shell",
            arch: "amd64",
            workspace,
            tunnelUrl: tunnel.agentUrl!,
            agentToken,
          });
          launched.push(job);
          return { workspace, port: 60001, job };
        }),
      );
      for (const ws of workspaces) {
        await launcher.waitFor(ws.job, ["running"]);
        const info = await waitFor(`${ws.workspace}'s editor at 60001`, () => editorInfo(ws), 30_000);
        expect(info.workspaceDir).toContain(`/${ws.job.jobId}/`);
      }
      const [a, b] = await Promise.all(workspaces.map((ws) => editorInfo(ws)));
      expect(a!.pid).not.toBe(b!.pid);
    } finally {
      for (const job of launched) await launcher.stop(job).catch(() => {});
      squatter.close();
    }
  }, 90_000);
});
