import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PROBES } from "../../src/harness/probes/index.ts";
import { runCell } from "../../src/harness/run-cell.ts";
import type { CellContext, PathProvisioner } from "../../src/harness/workspace.ts";
import { LocalWorkspace } from "./local-workspace.ts";
import { container, scenario, spec } from "./spec-builder.ts";

const started: LocalWorkspace[] = [];
afterEach(async () => {
  for (const ws of started.splice(0)) await ws.dispose();
});

const local: PathProvisioner = {
  path: "ci",
  async start() {
    const ws = await LocalWorkspace.start({ env: { GREETING: "hi" } });
    started.push(ws);
    return ws;
  },
};

const ctx = (probes: string[]): CellContext => ({
  tier: "sim",
  path: "ci",
  executor: "shell",
  arch: "amd64",
  scenario: scenario({ probes }),
  spec: spec({
    containers: [container("tooling", { main: true, env: [{ name: "GREETING", value: "hi" }] })],
  }),
  devfile: {},
});

describe("runCell", () => {
  it("starts, probes in phases (live, one restart, stop last), measures the URL and leaves nothing running", async () => {
    const seen: string[] = [];
    const run = await runCell(
      ctx(["workspace.stop", "container.env", "workspace.restart", "volume.persistent", "arch.arm64"]),
      local,
      PROBES,
      undefined,
      { probeDone: (_c, r) => seen.push(r.id) },
      new AbortController().signal,
    );
    expect(seen).toEqual([
      "container.env",
      "arch.arm64",
      "volume.persistent",
      "workspace.restart",
      "workspace.stop",
    ]);
    expect(run.cell.status).toBe("passed");
    expect(run.cell.startupMs).toBeGreaterThan(0);
    expect(Object.fromEntries(run.cell.features.map((f) => [f.id, f.status]))).toEqual({
      "container.env": "supported",
      "volume.persistent": "supported",
      "workspace.restart": "supported",
      "workspace.stop": "supported",
      "arch.arm64": "not-applicable",
    });
    expect(run.cell.tunnel?.latencyUs.count).toBe(50);
    expect(run.cell.tunnel?.baseline.latencyUs.count).toBe(50);
    expect(run.cell.tunnel?.throughputMBps.download).toBeGreaterThan(0);
    expect(await started[0]!.leftovers()).toEqual([]);
  });

  it("gives up a tunnel measurement that stalls after the start timeout and finishes the cell", async () => {
    // A URL that accepts connections and never answers, as a wedged proxy does.
    const held: Socket[] = [];
    const blackHole = createServer((socket) => held.push(socket)).listen(0, "127.0.0.1");
    await new Promise((r) => blackHole.once("listening", r));
    const { port } = blackHole.address() as { port: number };
    const stalled: PathProvisioner = {
      path: "ci",
      async start() {
        const ws = await LocalWorkspace.start({ env: { GREETING: "hi" } });
        started.push(ws);
        const nowhere = (_port: number, path = "/") => `http://127.0.0.1:${port}${path}`;
        return Object.assign(ws, { url: nowhere, directUrl: nowhere });
      },
    };
    try {
      const base = ctx(["workspace.stop"]);
      const run = await runCell(
        { ...base, scenario: { ...base.scenario, timeouts: { startMs: 1500, probeMs: 4000 } } },
        stalled,
        PROBES,
        undefined,
        { probeDone: () => {} },
        new AbortController().signal,
      );
      expect(run.cell.tunnel).toBeUndefined();
      expect(run.cell.features.map((f) => f.id)).toEqual(["workspace.stop"]);
      expect(await started[0]!.leftovers()).toEqual([]);
    } finally {
      for (const socket of held) socket.destroy();
      blackHole.close();
    }
  });

  it("turns a cell whose workspace ended by itself into an error naming why, and runs no stop probe on it", async () => {
    const seen: string[] = [];
    const ending: PathProvisioner = {
      path: "ci",
      async start() {
        const ws = await LocalWorkspace.start({ env: { GREETING: "hi" } });
        started.push(ws);
        return Object.assign(ws, { ended: async () => "job 7 ended failed (script_failure)" });
      },
    };
    const run = await runCell(
      ctx(["container.env", "workspace.stop"]),
      ending,
      PROBES,
      undefined,
      { probeDone: (_c, r) => seen.push(r.id) },
      new AbortController().signal,
    );
    expect(seen).toEqual(["container.env"]);
    expect(run.cell.status).toBe("error");
    expect(run.cell.reason).toMatch(/^the workspace ended by itself: job 7 ended failed \(script_failure\)/);
    expect(run.cell.features.find((f) => f.id === "workspace.stop")).toMatchObject({
      status: "error",
      evidence: "the workspace had ended: job 7 ended failed (script_failure)",
    });
    expect(await started[0]!.leftovers()).toEqual([]);
  });

  it("turns a workspace that does not start into an error cell whose every probe is an error with the reason", async () => {
    const failing: PathProvisioner = { path: "ci", start: () => Promise.reject(new Error("runner offline")) };
    const run = await runCell(
      ctx(["container.env", "endpoint.http"]),
      failing,
      PROBES,
      undefined,
      { probeDone: () => {} },
      new AbortController().signal,
    );
    expect(run.cell).toMatchObject({
      status: "error",
      startupMs: null,
      reason: "the workspace did not start: runner offline",
    });
    expect(run.cell.features.map((f) => f.status)).toEqual(["error", "error"]);
  });

  it("stops the workspace and marks what did not run when interrupted", async () => {
    const controller = new AbortController();
    const run = await runCell(
      ctx(["container.env", "workspace.restart"]),
      local,
      PROBES,
      undefined,
      { probeDone: () => controller.abort() },
      controller.signal,
    );
    // Interrupted is no verdict on the path: the cell is an error, with the reason.
    expect(run.cell.status).toBe("error");
    expect(run.cell.reason).toContain("interrupted");
    expect(run.cell.features[1]).toMatchObject({
      status: "error",
      evidence: "interrupted before this probe ran",
    });
    expect(await started[0]!.leftovers()).toEqual([]);
  });
});
