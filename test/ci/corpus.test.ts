import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ARCHES, EXECUTORS, generatePipeline, validateCiConfig } from "../../src/ci/index.ts";
import { loadDevfile } from "../../src/devfile/index.ts";

const REGISTRY = "test/fixtures/devfiles/registry";
const SCENARIOS = "scenarios/devfiles";
// The registry's java-wildfly stack uses {{imageName}} without declaring it: a user passes it with --var.
const VARIABLES: Record<string, Record<string, string>> = {
  "java-wildfly-2.0.2.yaml": { imageName: "quay.io/example/wildfly-app:latest" },
};
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join(dir, f));

describe("every devfile in the corpus converts to CI YAML GitLab's schema accepts", () => {
  const files = [...yamlFiles(REGISTRY), ...yamlFiles(SCENARIOS)];

  it("covers the whole registry corpus", () => {
    expect(yamlFiles(REGISTRY).length).toBeGreaterThanOrEqual(15);
  });

  for (const file of files) {
    it(file, async () => {
      const result = await loadDevfile(file, { variables: VARIABLES[file.split("/").pop()!] ?? {} });
      if (!result.ok) {
        // Scenario devfiles that are invalid on purpose are the devfile engine's business, not a pipeline's.
        expect(file.startsWith(SCENARIOS), result.errors.map((e) => e.message).join("; ")).toBe(true);
        return;
      }
      for (const executor of EXECUTORS) {
        for (const arch of ARCHES) {
          const pipeline = generatePipeline(result.spec, { executor, arch });
          expect(parse(pipeline.yaml)).toEqual(pipeline.config);
          expect(validateCiConfig(pipeline.config).errors).toEqual([]);
        }
      }
    });
  }
});

describe("wsparity devfile to-ci", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["bin/wsparity.js", "devfile", "to-ci", ...args], {
      encoding: "utf8",
      timeout: 30_000,
    });

  it("prints the pipeline, and with --json the rows the executor cannot honour", () => {
    const yaml = execFileSync(
      process.execPath,
      ["bin/wsparity.js", "devfile", "to-ci", join(REGISTRY, "nodejs-mongodb-default.yaml")],
      { encoding: "utf8" },
    );
    expect(validateCiConfig(parse(yaml)).valid).toBe(true);
    const r = cli(
      join(REGISTRY, "nodejs-mongodb-default.yaml"),
      "--executor",
      "shell",
      "--arch",
      "arm64",
      "--json",
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ workspace: expect.any(String), executor: "shell", arch: "arm64" });
    const features = out.notHonoured.map((row: { feature: string }) => row.feature);
    expect(features).toEqual(expect.arrayContaining(["container.image", "container.multi", "arch.arm64"]));
  });

  it("exits 2 for bad usage or an unreadable file, 1 for an invalid devfile", () => {
    expect(cli(join(REGISTRY, "nodejs-2.2.1.yaml"), "--executor", "ssh").status).toBe(2);
    const missing = cli("no/such/devfile.yaml");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("no/such/devfile.yaml");
    const invalid = cli(join(REGISTRY, "go-2.6.0.yaml"), "--rules", "gitlab");
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/go-2\.6\.0\.yaml:\d+:\d+/);
  });
});
