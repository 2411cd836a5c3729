import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { devfileCommand, registerDevfileCommands } from "../../src/devfile/cli.ts";
import { registerDevfileSummaryCommand } from "../../src/devfile/run-validate.ts";
import { mainInProcess } from "../support/cli.ts";

// Two checks go through the real executable (exit status of the process); the rest call the same main()
// in-process, since starting the whole CLI costs seconds.
const spawn = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/wsparity.js", "devfile", "validate", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });

const inProcess = mainInProcess;

afterEach(() => {
  process.exitCode = undefined;
});

const dir = mkdtempSync(join(tmpdir(), "wsparity-devfile-cli-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const valid = write(
  "valid.yaml",
  `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes:
      gl/inject-editor: true
    container:
      image: "{{image}}"
`,
);
const invalid = write(
  "invalid.yaml",
  `schemaVersion: 2.2.0
components:
  - name: tooling
    container:
      image: registry.example/tools:1
      memoryLimit: lots
`,
);

describe("wsparity devfile validate (the executable)", () => {
  it("exits 1 for an invalid devfile and prints file:line:column: message", () => {
    const r = spawn(invalid);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `${invalid}:6:20: components[0].container.memoryLimit must be a quantity such as 512Mi`,
    );
    expect(r.stderr).toContain("1 of 1 devfile(s) invalid under default rules");
  });

  it("exits 2 for a file that does not exist", () => {
    const r = spawn(join(dir, "missing.yaml"));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot read");
  });
});

describe("wsparity devfile validate (main, in-process)", () => {
  it("exits 0 for a valid devfile, says what it holds, and takes variables with --var", async () => {
    const r = await inProcess("devfile", "validate", "--var", "image=alpine:3", valid);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("valid under default rules (schemaVersion 2.2.0, 1 container(s)");
  });

  it("names an undefined variable and exits 1", async () => {
    const r = await inProcess("devfile", "validate", valid);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${valid}:7:14: variable 'image' is not defined`);
  });

  it("gives GitLab's verdicts as data with --rules gitlab --json", async () => {
    const r = await inProcess(
      "devfile",
      "validate",
      "--rules",
      "gitlab",
      "--json",
      "--var",
      "image=a",
      invalid,
      valid,
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.rules).toBe("gitlab");
    expect(out.files[0].valid).toBe(false);
    expect(out.files[0].errors[0]).toMatchObject({
      file: invalid,
      line: 3,
      column: 3,
      pointer: "/components",
      field: "components",
      message: "No component has 'gl/inject-editor' attribute",
      rule: "gitlab",
    });
    expect(out.files[1]).toMatchObject({ file: valid, valid: true, errors: [] });
  });

  it("exits 2 on bad usage", async () => {
    expect((await inProcess("devfile", "validate", "--rules", "strict", valid)).code).toBe(2);
    expect((await inProcess("devfile", "validate")).code).toBe(2);
  });

  it("devfile summary prints the summary table and exits 1 when a devfile is invalid", async () => {
    const r = await inProcess("devfile", "summary", invalid);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("| file | schemaVersion |");
    expect(r.stdout).toContain(
      "invalid: 6:20 components[0].container.memoryLimit must be a quantity such as 512Mi",
    );
  });
});

describe("help", () => {
  it("is there on the devfile group, validate and summary", () => {
    const program = new Command("wsparity");
    registerDevfileCommands(program);
    registerDevfileSummaryCommand(program);
    const group = devfileCommand(program);
    expect(group.helpInformation()).toContain("validate [options] <files...>");
    expect(group.commands.find((c) => c.name() === "validate")!.helpInformation()).toContain(
      "--rules <rules>",
    );
    expect(group.commands.find((c) => c.name() === "summary")!.helpInformation()).toContain(
      "prints a summary table",
    );
    // Another module's subcommands join the same group.
    devfileCommand(program).command("to-k8s");
    expect(program.commands.filter((c) => c.name() === "devfile")).toHaveLength(1);
  });
});
