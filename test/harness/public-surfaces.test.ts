// The harness reaches GitLab only as a GitLab user can: `sim up` runs the tier in one process, `run --settings`
// runs scenarios/parity.yaml from another, and every TCP connection the harness process opens is recorded. Each
// must go to the GitLab URL (GraphQL, REST), the workspaces proxy behind the workspace URLs, or the tunnel.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { readTierSettings, type TierSettings } from "../../src/tier/settings.ts";
import { describeUnless } from "../support/skip.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/wsparity.js");
const RECORDER = join(ROOT, "test/support/record-connections.mjs");
const missing = processKubeletUnavailable();
if (missing && process.env.CI) throw new Error(`CI must run the public surfaces test: ${missing}`);

describeUnless(missing)("the harness against sim up, through public surfaces only", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsparity-surfaces-"));
  const stateDir = join(dir, "sim");
  const recorded = join(dir, "connections.jsonl");
  let simUp: ChildProcess;
  let settings: TierSettings;
  let run: { code: number | null; stderr: string };

  beforeAll(async () => {
    simUp = spawn(process.execPath, [BIN, "sim", "up", "--state-dir", stateDir], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let simLog = "";
    simUp.stderr!.on("data", (c: Buffer) => {
      simLog = (simLog + c.toString()).slice(-4000);
    });
    const deadline = Date.now() + 90_000;
    while (!existsSync(join(stateDir, "tier.yaml"))) {
      if (simUp.exitCode !== null || Date.now() > deadline)
        throw new Error(`sim up did not write tier.yaml (exit ${simUp.exitCode}): ${simLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    settings = readTierSettings(join(stateDir, "tier.yaml"));
    const child = spawn(
      process.execPath,
      [
        BIN,
        "run",
        "--settings",
        join(stateDir, "tier.yaml"),
        "scenarios/parity.yaml",
        "--out",
        join(dir, "report"),
        "--progress",
        "quiet",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: `--import=${RECORDER}`, WSPARITY_RECORD_CONNECTIONS: recorded },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((done) => child.once("exit", done));
    run = { code, stderr };
  }, 300_000);

  afterAll(async () => {
    if (simUp && simUp.exitCode === null) {
      simUp.kill("SIGTERM");
      await new Promise((done) => simUp.once("exit", done));
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("runs both paths and connects only to GitLab, the workspaces proxy and the tunnel", () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, "report/report.json"), "utf8"));
    const ran = report.cells
      .filter((c: { status: string }) => c.status === "passed")
      .map((c: { path: string }) => c.path);
    expect(ran).toEqual(expect.arrayContaining(["kubernetes", "ci"]));

    const surfaces = new Map([
      [new URL(settings.gitlab.url).host, "GitLab"],
      [settings.kubernetes.agents[0]!.resolveTo!, "workspaces proxy"],
      [new URL(settings.ci.tunnel!.url).host, "tunnel"],
    ]);
    // tsx, which loads the TypeScript, looks for its parent's IPC pipe (there is none): not the harness's traffic.
    const loader = /^unix:\/tmp\/tsx-\d+\/\d+\.pipe$/;
    const peers = readFileSync(recorded, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { peer: string; how: string })
      .filter((p) => !loader.test(p.peer));
    const elsewhere = peers.filter((p) => !surfaces.has(p.peer));
    expect(elsewhere).toEqual([]);
    expect(new Set(peers.map((p) => surfaces.get(p.peer)))).toEqual(
      new Set(["GitLab", "workspaces proxy", "tunnel"]),
    );
  });
});
