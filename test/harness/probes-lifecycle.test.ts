import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkspaceSpec } from "../../src/devfile/spec.ts";
import { eventPostStart } from "../../src/harness/probes/event-commands.ts";
import { eventPreStop } from "../../src/harness/probes/event-prestop.ts";
import type { RestartProbe } from "../../src/harness/probes/index.ts";
import { volumeEphemeral } from "../../src/harness/probes/volume-ephemeral.ts";
import { volumePersistent } from "../../src/harness/probes/volume-persistent.ts";
import { SERVES_VOLUME, volumeShared } from "../../src/harness/probes/volume-shared.ts";
import { workspaceRestart } from "../../src/harness/probes/workspace-restart.ts";
import { workspaceStop } from "../../src/harness/probes/workspace-stop.ts";
import { type LocalWorkspace, type LocalWorkspaceOptions, localFixtures } from "./local-workspace.ts";
import { container, context, endpoint, spec } from "./spec-builder.ts";

const { workspace, cleanup } = localFixtures(afterEach);

async function throughRestart<S>(probe: RestartProbe<S>, ws: LocalWorkspace, s: WorkspaceSpec) {
  const ctx = context(ws, s);
  const state = await probe.prepare(ctx);
  const t0 = performance.now();
  await ws.restart();
  return probe.verify(ctx, state, { ok: true, durationMs: performance.now() - t0 });
}

describe("volume.persistent", () => {
  it("is supported when the data folder survives a restart, unsupported when the restart wipes it", async () => {
    const keeps = await workspace();
    const ok = await throughRestart(volumePersistent, keeps, spec());
    expect(ok).toMatchObject({
      status: "supported",
      evidence: expect.stringContaining("workspace data ($PROJECTS_ROOT): kept"),
    });
    const wipes = await workspace({});
    (wipes as unknown as { options: LocalWorkspaceOptions }).options.wipeOnRestart = [wipes.projects];
    expect((await throughRestart(volumePersistent, wipes, spec())).status).toBe("unsupported");
  });

  it("reports a failed restart as unsupported, with the error", async () => {
    const ws = await workspace();
    const ctx = context(ws, spec());
    const state = await volumePersistent.prepare(ctx);
    const r = await volumePersistent.verify(ctx, state, {
      ok: false,
      durationMs: 10,
      error: "pipeline failed",
    });
    expect(r).toMatchObject({ status: "unsupported", evidence: "the restart failed: pipeline failed" });
  });
});

describe("volume.ephemeral", () => {
  it("wants the ephemeral volume empty after a restart", async () => {
    const ws = await workspace();
    const scratch = join(ws.root, "scratch");
    await mkdir(scratch, { mode: 0o777 });
    const s = spec({
      containers: [container("tooling", { main: true, volumeMounts: [{ name: "scratch", path: scratch }] })],
      volumes: [{ name: "scratch", ephemeral: true }],
    });
    expect((await throughRestart(volumeEphemeral, ws, s)).status).toBe("unsupported");
    (ws as unknown as { options: LocalWorkspaceOptions }).options.wipeOnRestart = [scratch];
    expect((await throughRestart(volumeEphemeral, ws, s)).status).toBe("supported");
  });
});

describe("volume.shared", () => {
  it("reads back through the sidecar what the main container wrote, and notices a sidecar on another folder", async () => {
    const ws = await workspace();
    const shared = join(ws.root, "shared");
    const other = join(ws.root, "other");
    await mkdir(shared, { mode: 0o777 });
    await mkdir(other, { mode: 0o777 });
    const serve = async (dir: string) => {
      const server = createServer(async (req, res) => {
        try {
          res.end(await readFile(join(dir, req.url ?? "/")));
        } catch {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      cleanup.push(() => new Promise((r) => server.close(r)));
      return (server.address() as { port: number }).port;
    };
    const specFor = (port: number) =>
      spec({
        containers: [
          container("tooling", { main: true, volumeMounts: [{ name: "cache", path: shared }] }),
          container("files", {
            volumeMounts: [{ name: "cache", path: "/cache" }],
            endpoints: [endpoint("files", port, "none", { attributes: { [SERVES_VOLUME]: "cache" } })],
          }),
        ],
        volumes: [{ name: "cache", ephemeral: false }],
      });
    expect((await volumeShared.run(context(ws, specFor(await serve(shared))))).status).toBe("supported");
    const wrong = await volumeShared.run(context(ws, specFor(await serve(other))));
    expect(wrong).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("did not serve it"),
    });
  });
});

describe("workspace.restart", () => {
  it("wants a new editor after the restart; a restart that changes nothing is unsupported", async () => {
    expect((await throughRestart(workspaceRestart, await workspace(), spec())).status).toBe("supported");
    const stuck = await throughRestart(workspaceRestart, await workspace({ restart: "no-op" }), spec());
    expect(stuck).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("nothing restarted"),
    });
  });
});

describe("workspace.stop", () => {
  it("is supported when stop frees everything, unsupported when the workspace keeps running", async () => {
    const ok = await workspaceStop.run(context(await workspace(), spec()));
    expect(ok).toMatchObject({
      status: "supported",
      evidence: expect.stringContaining("nothing left running"),
    });
    const leaky = await workspaceStop.run(context(await workspace({ stop: "leave-running" }), spec()));
    expect(leaky).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("left: editor pid"),
    });
  });
});

describe("events", () => {
  const withEvent = (event: "postStart" | "preStop") =>
    spec({
      commands: [
        {
          kind: "exec",
          id: "mark",
          component: "tooling",
          commandLine: `echo ran > "$PROJECTS_ROOT/${event}-ran"`,
          env: [],
          hotReloadCapable: false,
        },
      ],
      events: {
        preStart: [],
        postStart: event === "postStart" ? ["mark"] : [],
        preStop: event === "preStop" ? ["mark"] : [],
        postStop: [],
      },
    });

  it("event.postStart: sees the file its command creates, and reports it missing otherwise", async () => {
    const ws = await workspace();
    const s = withEvent("postStart");
    expect((await eventPostStart.run(context(ws, s, { timeoutMs: 1000 }))).status).toBe("unsupported");
    await writeFile(join(ws.projects, "postStart-ran"), "ran\n");
    expect((await eventPostStart.run(context(ws, s))).status).toBe("supported");
  });

  it("event.postStart: not applicable when no command has an observable effect", () => {
    const s = withEvent("postStart");
    (s.commands[0] as { commandLine: string }).commandLine = "npm install";
    expect(eventPostStart.notApplicable!(context({} as never, s))).toMatch(
      /creates a file the main container could observe/,
    );
  });

  it("event.preStop: the stop must create the file; a stop that skips preStop is unsupported", async () => {
    const s = withEvent("preStop");
    const skips = await workspace();
    expect((await throughRestart(eventPreStop, skips, s)).status).toBe("unsupported");
    const runs = await workspace({
      beforeStop: (ws) => writeFile(join(ws.projects, "preStop-ran"), "ran\n"),
    });
    expect((await throughRestart(eventPreStop, runs, s)).status).toBe("supported");
  });
});

describe("event.preStart", () => {
  it("observes an init container's file in a volume the main container shares, and its absence", async () => {
    const { eventPreStart } = await import("../../src/harness/probes/event-commands.ts");
    const ws = await workspace();
    const shared = join(ws.root, "shared");
    await mkdir(shared, { mode: 0o777 });
    const s = spec({
      containers: [
        container("tooling", { main: true, volumeMounts: [{ name: "shared", path: shared }] }),
        container("prepare", {
          command: ["sh", "-c"],
          args: [`echo ready > ${shared}/prestart`],
          volumeMounts: [{ name: "shared", path: shared }],
        }),
      ],
      volumes: [{ name: "shared", ephemeral: false }],
      commands: [{ kind: "apply", id: "prepare-volume", component: "prepare" }],
      events: { preStart: ["prepare-volume"], postStart: [], preStop: [], postStop: [] },
    });
    expect(eventPreStart.notApplicable!(context(ws, s))).toBeUndefined();
    expect((await eventPreStart.run(context(ws, s, { timeoutMs: 1000 }))).status).toBe("unsupported");
    await writeFile(join(shared, "prestart"), "ready\n");
    expect(await eventPreStart.run(context(ws, s))).toMatchObject({
      status: "supported",
      evidence: `prepare-volume: ${shared}/prestart written since the start`,
    });
  });

  it("does not count a file an earlier workspace left (written before this one started)", async () => {
    const { eventPreStart } = await import("../../src/harness/probes/event-commands.ts");
    const ws = await workspace();
    const s = spec({
      commands: [
        {
          kind: "exec",
          id: "mark",
          component: "tooling",
          commandLine: `echo ran > "$PROJECTS_ROOT/preStart-ran"`,
          env: [],
          hotReloadCapable: false,
        },
      ],
      events: { preStart: ["mark"], postStart: [], preStop: [], postStop: [] },
    });
    const file = join(ws.projects, "preStart-ran");
    await writeFile(file, "ran\n");
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(file, anHourAgo, anHourAgo);
    expect(await eventPreStart.run(context(ws, s, { timeoutMs: 1000 }))).toMatchObject({
      status: "unsupported",
      evidence: expect.stringContaining("not written since the start"),
    });
  });
});
