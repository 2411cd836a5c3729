// The compose file's local profile on this machine (docker-compose 1.29): the sim tier's components, each in its own
// container, bootstrapped through the GitLab simulator's public API by `live up --profile local`, then
// scenarios/minimal.yaml on both paths through `run --settings`; `live down --profile local --volumes` leaves nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { LOCAL_PROJECT } from "../../src/live/local-profile.ts";
import { parseTierSettings } from "../../src/tier/settings.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "../containers/docker-available.ts";
import { describeUnless } from "../support/skip.ts";

const docker = await dockerForTests();
const composeV1 = spawnSync("docker-compose", ["version", "--short"]).status === 0;
const imageThere = docker && spawnSync("docker", ["image", "inspect", "wsparity/node:amd64"]).status === 0;
const skipReason = !docker
  ? NO_DOCKER_ENGINE
  : !composeV1
    ? "docker-compose (v1) is not installed: apt-get install -y docker-compose (npm run setup:docker)"
    : !imageThere
      ? "image wsparity/node:amd64 is absent: npm run images:build"
      : undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const stateDir = mkdtempSync(join(tmpdir(), "wsparity-local-"));
const out = mkdtempSync(join(tmpdir(), "wsparity-local-report-"));
const env: Record<string, string> = {};

function cli(args: string[], timeout: number) {
  return spawnSync(process.execPath, ["bin/wsparity.js", ...args], {
    encoding: "utf8",
    timeout,
    env: { ...process.env, ...env },
  });
}

/** What compose created for the project, by its label: containers, networks, volumes. */
function leftovers(): string[] {
  const label = `label=com.docker.compose.project=${LOCAL_PROJECT}`;
  return [
    ["ps", "-aq", "--filter", label],
    ["network", "ls", "-q", "--filter", label],
    ["volume", "ls", "-q", "--filter", label],
  ].flatMap((args) => spawnSync("docker", args, { encoding: "utf8" }).stdout.split("\n").filter(Boolean));
}

afterAll(() => {
  if (!skipReason) {
    const down = cli(["live", "down", "--profile", "local", "--volumes", "--state-dir", stateDir], 120_000);
    if (down.status !== 0) process.stderr.write(`live down failed:\n${down.stderr}\n`);
  }
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describeUnless(skipReason)("docker-compose.yml's local profile (docker-compose 1.29)", () => {
  it("runs scenarios/minimal.yaml on both paths through separate containers, and leaves nothing behind", async () => {
    expect(leftovers(), `compose project ${LOCAL_PROJECT} exists before the test`).toEqual([]);
    env.WSPARITY_LOCAL_GITLAB_PORT = String(await freePort());
    env.WSPARITY_LOCAL_PROXY_PORT = String(await freePort());
    env.WSPARITY_LOCAL_TUNNEL_PORT = String(await freePort());

    const up = cli(["live", "up", "--profile", "local", "--state-dir", stateDir], 420_000);
    expect(up.status, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(up.stdout).toMatch(/\[\d+\/\d+\] settings: wrote/);

    const services = spawnSync(
      "docker",
      ["ps", "--filter", `label=com.docker.compose.project=${LOCAL_PROJECT}`, "--format", "{{.Names}}"],
      { encoding: "utf8" },
    ).stdout;
    for (const service of [
      "gitlab-sim",
      "kubernetes-sim",
      "workspaces-proxy-local",
      "tunnel-local",
      "agentk",
      "runner-shell-local",
    ])
      expect(services, service).toContain(`${LOCAL_PROJECT}_${service}_1`);

    const settingsFile = join(stateDir, "settings.yaml");
    const settings = parseTierSettings(readFileSync(settingsFile, "utf8"), settingsFile);
    expect(settings.gitlab.url).toBe(`http://127.0.0.1:${env.WSPARITY_LOCAL_GITLAB_PORT}`);
    expect(settings.ci.runners.map((r) => `${r.executor}/${r.arch}`)).toEqual(["shell/amd64"]);

    const run = cli(
      ["run", "--settings", settingsFile, "scenarios/minimal.yaml", "--executors", "shell", "--out", out],
      600_000,
    );
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    const cells = report.cells.map(
      (c: { path: string; executor: string | null; arch: string; status: string; reason?: string }) =>
        `${c.path}/${c.executor}/${c.arch}: ${c.status}${c.reason ? ` (${c.reason})` : ""}`,
    );
    expect(cells).toEqual(["kubernetes/null/amd64: passed", "ci/shell/amd64: passed"]);
    expect(run.status, run.stderr).toBe(0);

    const again = cli(["live", "up", "--profile", "local", "--state-dir", stateDir], 300_000);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/\bcreated\b|committed \d/);
    expect(again.stdout).toMatch(/settings: .* is current/);

    const down = cli(["live", "down", "--profile", "local", "--volumes", "--state-dir", stateDir], 120_000);
    expect(down.status, down.stderr).toBe(0);
    expect(leftovers()).toEqual([]);
  });
});
