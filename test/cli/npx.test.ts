import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The CLI started the way README tells people to: `npx wsparity …`, which npm runs through a bin link
// (node_modules/.bin/wsparity → …/bin/wsparity.js), not as `node bin/wsparity.js`.
const PROJECT = process.cwd();

function npx(cwd: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync("npx", ["--no-install", "wsparity", ...args], {
    cwd,
    encoding: "utf8",
    timeout: 110_000,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

// Each case starts npm and the whole CLI cold: seconds when idle, over a minute on a loaded machine.
describe("npx wsparity", { timeout: 120_000 }, () => {
  let consumer: string;
  let badDevfile: string;

  beforeAll(() => {
    // A project that installs wsparity by path: npm links the package and its bin under node_modules.
    consumer = mkdtempSync(join(tmpdir(), "wsparity-npx-"));
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    const install = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", PROJECT], {
      cwd: consumer,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (install.status !== 0) throw new Error(`npm install ${PROJECT} failed:\n${install.stderr}`);
    badDevfile = join(consumer, "bad.devfile.yaml");
    writeFileSync(badDevfile, "schemaVersion: 2.2.0\ncomponents:\n  - name: tooling\n    container: {}\n");
  }, 90_000);

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it("prints the usage and exits 0 in the project's own clone", () => {
    const r = npx(PROJECT, "--help");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Usage: wsparity");
    expect(r.status).toBe(0);
  });

  it("prints the usage through the bin link of a project that installed it", () => {
    const r = npx(consumer, "--help");
    expect(r.stdout).toContain("Usage: wsparity");
    expect(r.stdout).toContain("devfile");
    expect(r.status).toBe(0);
  });

  it("exits 1 and names the file when `devfile validate` rejects a devfile", () => {
    const r = npx(consumer, "devfile", "validate", badDevfile);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain("bad.devfile.yaml");
  });
});
