import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandMatrix } from "../../src/harness/matrix.ts";
import { loadScenarioOrDevfile, parseScenario, scenarioForDevfile } from "../../src/harness/scenario.ts";
import { UsageError } from "../../src/util/errors.ts";

describe("scenario files", () => {
  it("loads the shipped scenarios with defaults filled in and the devfile resolved next to the file", async () => {
    const s = await loadScenarioOrDevfile("scenarios/parity.yaml");
    expect(s.name).toBe("parity");
    expect(s.devfile).toMatch(/scenarios\/devfiles\/parity\.devfile\.yaml$/);
    expect(s.probes).toHaveLength(25);
    expect(s.workspace.files).toEqual({ WORKSPACE_USER_FILE: "file variable content\n" });
  });

  it("treats a plain devfile as a scenario with default settings", async () => {
    const s = await loadScenarioOrDevfile("scenarios/devfiles/minimal.devfile.yaml");
    expect(s).toMatchObject({ name: "minimal-devfile", matrix: {}, bench: { latencyRequests: 2000 } });
    expect(scenarioForDevfile("/x/My Devfile!.yaml").name).toBe("my-devfile");
  });

  it("names file, line and column of each bad field, and unknown keys", () => {
    const text =
      "name: demo\ndevfile: d.yaml\nmatrix:\n  arch: [amd64, sparc]\nprobes: [container.env, teleport]\ncolour: red\n";
    let message = "";
    try {
      parseScenario(text, "s.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      message = (err as Error).message;
    }
    expect(message).toContain("s.yaml:4:17: matrix.arch.1 must be one of amd64, arm64");
    expect(message).toContain("s.yaml:5:25: probes.1 must be one of");
    expect(message).toContain('s.yaml:6:9: scenario: unknown key "colour"');
    expect(() => parseScenario("name: Bad_Name\ndevfile: x\n", "s.yaml")).toThrow(
      /s\.yaml:1:7: name must be lower-case/,
    );
    expect(() => parseScenario("name: [", "s.yaml")).toThrow(/s\.yaml:1:\d+: not valid YAML/);
  });

  it("takes adapt: gitlab, and names the line of any other value", () => {
    expect(parseScenario("name: a\ndevfile: d.yaml\nadapt: gitlab\n", "/s/a.yaml").adapt).toBe("gitlab");
    expect(parseScenario("name: a\ndevfile: d.yaml\n", "/s/a.yaml").adapt).toBeUndefined();
    expect(() => parseScenario("name: a\ndevfile: d.yaml\nadapt: k8s\n", "s.yaml")).toThrow(
      /s\.yaml:3:8: adapt must be one of gitlab/,
    );
  });

  it("never throws anything but a UsageError on arbitrary YAML-ish input (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseScenario(text, "fuzz.yaml");
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).toMatch(/fuzz\.yaml:\d+:\d+/);
        }
      }),
    );
  });
});

describe("matrix", () => {
  const parity = parseScenario("name: parity\ndevfile: d.yaml\n", "/s/parity.yaml");

  it("on sim: the Kubernetes reference and the shell and kubernetes executors on amd64", () => {
    const cells = expandMatrix([parity], "sim");
    expect(cells.map((c) => [c.path, c.executor, c.arch, c.skip ?? ""])).toEqual([
      ["kubernetes", null, "amd64", ""],
      ["ci", "shell", "amd64", ""],
      ["ci", "kubernetes", "amd64", ""],
    ]);
  });

  it("on docker: every executor and arch, with the ones the tier cannot run skipped with a reason", () => {
    const cells = expandMatrix([parity], "docker");
    expect(cells).toHaveLength(8);
    expect(cells.find((c) => c.executor === "shell" && c.arch === "arm64")?.skip).toMatch(
      /runner host's own architecture/,
    );
    expect(cells.filter((c) => !c.skip)).toHaveLength(7);
  });

  it("flags override the scenario, and the sim tier explains what it cannot run", () => {
    const cells = expandMatrix([parity], "sim", { paths: ["ci"], executors: ["docker"], arch: ["arm64"] });
    expect(cells).toHaveLength(1);
    expect(cells[0]!.skip).toMatch(/sim tier/);
  });
});
