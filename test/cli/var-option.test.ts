import { afterEach, describe, expect, it } from "vitest";
import { loadScenarios } from "../../src/harness/load-scenarios.ts";
import { mainInProcess } from "../support/cli.ts";

const DEVFILE = "test/fixtures/devfiles/variables/undefined-image.devfile.yaml";
const IMAGE = "registry.example.test/tooling:7";

const inProcess = mainInProcess;

afterEach(() => {
  process.exitCode = undefined;
});

// Every command that reads devfiles takes --var as `devfile validate` does.
describe.each([
  ["devfile", "validate"],
  ["devfile", "to-ci"],
  ["devfile", "to-k8s"],
  ["devfile", "summary"],
])("wsparity %s %s --var", { timeout: 120_000 }, (...command) => {
  it("fails without the variable, naming the flag that gives it", async () => {
    const r = await inProcess(...command, DEVFILE);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("--var imageName=VALUE");
  });

  it("substitutes the value given with --var", async () => {
    const r = await inProcess(...command, DEVFILE, "--var", `imageName=${IMAGE}`);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    if (command[1] === "to-ci" || command[1] === "to-k8s") expect(r.stdout).toContain(IMAGE);
  });

  it("rejects a --var without NAME=", async () => {
    const r = await inProcess(...command, DEVFILE, "--var", "imageName");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--var wants NAME=VALUE");
  });
});

describe("wsparity run --var", () => {
  it("is an option of run and of bench ci", async () => {
    for (const command of [["run"], ["bench", "ci"]]) {
      const r = await inProcess(...command, "--help");
      expect(r.stdout).toContain("--var <name=value>");
    }
  });

  it("reaches the devfiles the run loads, on both paths' rules", async () => {
    const [without] = await loadScenarios([DEVFILE]);
    expect(without?.spec).toBeUndefined();
    expect(without?.rejected.ci).toContain("imageName");
    const [given] = await loadScenarios([DEVFILE], { imageName: IMAGE });
    expect(given?.spec?.containers[0]?.image).toBe(IMAGE);
    expect(given?.rejected.kubernetes).toBeUndefined();
  });
});
