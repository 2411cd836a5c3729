import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../src/report/model.ts";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { sampleReport } from "../report/fixtures.ts";
import { mainInProcess } from "../support/cli.ts";

const FLAG = "remote_development_ci_runner_workspaces";
let sim: GitLabSimulator;
let userToken: string;
let dir: string;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 300 }).start();
  sim.features.define(FLAG).define("another_flag");
  userToken = sim.store.createToken(sim.store.createUser("alice").id);
  dir = await mkdtemp(join(tmpdir(), "wsparity-features-"));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

// The simulator runs in this process: child tools must run asynchronously or they would wait on us forever.
function run(command: string, args: string[]) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** curl as an administrator would call the Features API: status line last. */
async function curl(method: string, path: string, token: string | undefined, ...form: string[]) {
  const r = await run("curl", [
    "-sS",
    "-X",
    method,
    ...(token ? ["-H", `PRIVATE-TOKEN: ${token}`] : []),
    ...form.flatMap((f) => ["--data-urlencode", f]),
    "-w",
    "\n%{http_code}",
    `${sim.url}/api/v4${path}`,
  ]);
  const lines = r.stdout.split("\n");
  const status = Number(lines.pop());
  const text = lines.join("\n");
  return { status, body: text ? JSON.parse(text) : undefined };
}

describe("GitLab simulator: Features API (curl)", () => {
  it("needs a token (401) of an administrator (403)", async () => {
    expect((await curl("GET", "/features", undefined)).status).toBe(401);
    expect(await curl("GET", "/features", userToken)).toEqual({
      status: 403,
      body: { message: "403 Forbidden" },
    });
    expect((await curl("POST", `/features/${FLAG}`, userToken, "value=true")).status).toBe(403);
  });

  it("sets a flag on, to a percentage of actors, and off, in GitLab's response shape", async () => {
    const root = sim.rootToken;
    expect(await curl("GET", "/features", root)).toEqual({ status: 200, body: [] });
    const on = await curl("POST", `/features/${FLAG}`, root, "value=true");
    expect(on.status).toBe(201);
    expect(on.body).toMatchObject({
      name: FLAG,
      state: "on",
      gates: [{ key: "boolean", value: true }],
      definition: { name: FLAG, type: "beta", default_enabled: false },
    });
    // As Flipper does: a percentage gate beside an enabled boolean gate leaves the flag on for everyone.
    const both = await curl("POST", `/features/${FLAG}`, root, "value=25", "key=percentage_of_actors");
    expect(both.body).toMatchObject({
      state: "on",
      gates: [
        { key: "boolean", value: true },
        { key: "percentage_of_actors", value: 25 },
      ],
    });
    const off = await curl("POST", `/features/${FLAG}`, root, "value=false");
    expect(off.body).toMatchObject({ state: "off", gates: [{ key: "boolean", value: false }] });
    const some = await curl("POST", `/features/${FLAG}`, root, "value=25", "key=percentage_of_actors");
    expect(some.body).toMatchObject({
      state: "conditional",
      gates: [
        { key: "boolean", value: false },
        { key: "percentage_of_actors", value: 25 },
      ],
    });
    expect((await curl("GET", "/features", root)).body).toEqual([some.body]);
    expect((await curl("DELETE", `/features/${FLAG}`, root)).status).toBe(204);
    expect((await curl("GET", "/features", root)).body).toEqual([]);
  });

  it("answers bad input as GitLab does", async () => {
    const root = sim.rootToken;
    expect(await curl("POST", `/features/${FLAG}`, root)).toEqual({
      status: 400,
      body: { error: "value is missing" },
    });
    expect(
      (await curl("POST", `/features/${FLAG}`, root, "value=1", "key=percentage_of_actors", "user=alice"))
        .body,
    ).toEqual({ error: "key, user are mutually exclusive" });
    expect((await curl("POST", `/features/${FLAG}`, root, "value=maybe")).body).toEqual({
      message: `400 Bad request - Cannot set '${FLAG}' to "maybe"`,
    });
    const definitions = await curl("GET", "/features/definitions", root);
    expect(definitions.body.map((d: { name: string }) => d.name)).toEqual([FLAG, "another_flag"]);
  });
});

async function cli(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await mainInProcess(...argv);
  return { status: code, stdout, stderr };
}

describe("wsparity gate --apply-flag against the simulator", () => {
  // The sample report has one critical gap: it reaches stage "internal" (flag 5% of actors), not "ga".
  const POLICY = `gate: internal
flagBelowFirstStage: false
stages:
  - name: internal
    flag: 5
    thresholds: {parityPct: [">= 0"]}
  - name: ga
    flag: true
    thresholds: {gaps.critical: ["== 0"]}
`;
  const gate = (reportDir: string, ...args: string[]) =>
    cli(
      "gate",
      join(reportDir, "report.json"),
      "--policy",
      join(dir, "policy.yaml"),
      "--gitlab",
      sim.url,
      ...args,
    );
  const flagNow = async () =>
    (await curl("GET", "/features", sim.rootToken)).body.find((f: { name: string }) => f.name === FLAG);
  let reportDir: string;

  beforeAll(async () => {
    await writeFile(join(dir, "policy.yaml"), POLICY);
    reportDir = join(dir, "nightly");
    await run("mkdir", ["-p", reportDir]);
    await writeFile(join(reportDir, "report.json"), JSON.stringify(sampleReport()));
    await curl("DELETE", `/features/${FLAG}`, sim.rootToken);
  });

  it("prints the request and changes nothing without --yes", async () => {
    const r = await gate(reportDir, "--apply-flag", FLAG, "--token", sim.rootToken);
    expect(r.stderr).toContain(`flag ${FLAG} is off; stage internal wants on for 5% of actors. Dry run`);
    expect(r.stderr).toContain(`POST ${sim.url}/api/v4/features/${FLAG} value=5&key=percentage_of_actors`);
    expect(r.status).toBe(0);
    expect(await flagNow()).toBeUndefined();
  });

  it("with --yes sets the flag for the stage reached, reads it back and records before and after; a second run is a no-op", async () => {
    const first = await gate(reportDir, "--apply-flag", FLAG, "--token", sim.rootToken, "--yes");
    expect(first.stderr).toContain(`flag ${FLAG}: off → on for 5% of actors (stage internal;`);
    expect(first.status).toBe(0);
    expect((await flagNow()).gates).toContainEqual({ key: "percentage_of_actors", value: 5 });
    const report = JSON.parse(await readFile(join(reportDir, "report.json"), "utf8")) as Report;
    expect(report.rollout).toMatchObject({
      flag: FLAG,
      gitlab: sim.url,
      stage: "internal",
      desired: 5,
      before: false,
      after: 5,
      applied: true,
    });
    expect(await readFile(join(reportDir, "report.md"), "utf8")).toContain("Gaps");

    const second = await gate(reportDir, "--apply-flag", FLAG, "--token", sim.rootToken, "--yes");
    expect(second.stderr).toContain(
      `flag ${FLAG} is already on for 5% of actors (stage internal): nothing to change`,
    );
    expect(second.status).toBe(0);
    const again = JSON.parse(await readFile(join(reportDir, "report.json"), "utf8")) as Report;
    expect(again.rollout?.at).toBe(report.rollout?.at);
  });

  it("steps a flag that is on for everyone down to the stage's percentage (boolean gate off first)", async () => {
    await curl("POST", `/features/${FLAG}`, sim.rootToken, "value=true");
    const r = await gate(reportDir, "--apply-flag", FLAG, "--token", sim.rootToken, "--yes");
    expect(r.stderr).toContain(`flag ${FLAG}: on → on for 5% of actors`);
    expect(await flagNow()).toMatchObject({
      state: "conditional",
      gates: [
        { key: "boolean", value: false },
        { key: "percentage_of_actors", value: 5 },
      ],
    });
  });

  it("refuses an unknown flag, a non-admin token and a missing token with a clear error (exit 2)", async () => {
    const unknown = await gate(
      reportDir,
      "--apply-flag",
      "remote_development_typo",
      "--token",
      sim.rootToken,
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`defines no feature flag "remote_development_typo"`);
    expect(unknown.stderr).toContain(`similar: ${FLAG}`);
    const notAdmin = await gate(reportDir, "--apply-flag", FLAG, "--token", userToken, "--yes");
    expect(notAdmin.status).toBe(2);
    expect(notAdmin.stderr).toContain("needs an administrator's token");
    const saved = process.env.GITLAB_TOKEN;
    delete process.env.GITLAB_TOKEN;
    const noToken = await cli(
      "gate",
      join(reportDir, "report.json"),
      "--policy",
      join(dir, "policy.yaml"),
      "--apply-flag",
      FLAG,
      "--gitlab",
      sim.url,
    );
    if (saved !== undefined) process.env.GITLAB_TOKEN = saved;
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain("--apply-flag needs an administrator token");
  });
});
