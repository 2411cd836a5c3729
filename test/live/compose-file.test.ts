import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPOSE_FILE, checkComposeFile, readComposeFile, servicesOf } from "../../src/live/compose-file.ts";

const PROFILES = ["live", "live-setup", "live-proxy", "local", "local-agents"];
/** `config -q` of the file with every profile on: what both Compose versions must accept. */
const CONFIG_EVERY_PROFILE = [
  ...["-p", "wsparity-live", "-f", COMPOSE_FILE],
  ...PROFILES.flatMap((p) => ["--profile", p]),
  ...["config", "-q"],
];

const composeV1 = spawnSync("docker-compose", ["version", "--short"]).status === 0;
const composeV2 = spawnSync("docker", ["compose", "version", "--short"]).status === 0;

describe("docker-compose.yml", () => {
  it("passes the Compose Specification's schema", () => {
    expect(checkComposeFile()).toEqual([]);
  });

  it("has the live profile's roles, every image pinned to a version", () => {
    const live = servicesOf(readComposeFile(), "live");
    expect(live.map((s) => s.name).sort()).toEqual(
      ["gitlab", "k3s", "runner-docker", "runner-kubernetes", "runner-shell", "tunnel"].sort(),
    );
    for (const s of live) expect(s.image, s.name).toMatch(/:[^:]*\d[^:]*$/);
    const setup = servicesOf(readComposeFile(), "live-setup");
    expect(setup.every((s) => s.oneShot)).toBe(true);
  });

  it("has the local profile's roles as the project's own components, from local images only", () => {
    const compose = readComposeFile();
    const local = servicesOf(compose, "local");
    expect(local.map((s) => s.name).sort()).toEqual(
      ["gitlab-sim", "kubernetes-sim", "tunnel-local", "workspaces-proxy-local"].sort(),
    );
    const agents = servicesOf(compose, "local-agents");
    expect(agents.map((s) => s.name).sort()).toEqual(["agentk", "runner-shell-local"]);
    for (const s of [...local, ...agents]) expect(s.image, s.name).toMatch(/^wsparity\/node:amd64$/);
    for (const s of local) for (const p of s.ports) expect(p, s.name).toMatch(/^127\.0\.0\.1:/);
  });

  it("names file, line and column of a schema violation", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-compose-"));
    const broken = join(dir, "docker-compose.yml");
    writeFileSync(broken, readFileSync(COMPOSE_FILE, "utf8").replace("shm_size: 256m", "shm_size: [256m]"));
    const errors = checkComposeFile(broken);
    expect(errors.length).toBeGreaterThan(0);
    const line =
      readFileSync(broken, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("shm_size")) + 1;
    expect(errors.join("\n")).toContain(`${broken}:${line}:`);
  });

  it("docker-compose 1.29 reads it (config -q), every profile", (ctx) => {
    if (!composeV1) ctx.skip("docker-compose (v1) is not installed: apt-get install -y docker-compose");
    const r = spawnSync("docker-compose", CONFIG_EVERY_PROFILE, { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("docker compose v2 reads it (config -q), every profile", (ctx) => {
    if (!composeV2)
      ctx.skip("the docker compose v2 plugin is not installed (Debian 12 ships only docker-compose 1.29)");
    const r = spawnSync("docker", ["compose", ...CONFIG_EVERY_PROFILE], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });
});
