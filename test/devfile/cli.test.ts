import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { devfileCommand, registerDevfileCommands } from "../../src/devfile/cli.ts";
import { registerRunValidateCommand } from "../../src/devfile/run-validate.ts";

const run = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/wsparity.js", "devfile", "validate", ...args], {
    encoding: "utf8",
    timeout: 30_000,
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
      image: registry.example/tools:1
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

describe("wsparity devfile validate", () => {
  it("exits 1 for an invalid devfile and prints file:line:column: message", () => {
    const r = run(invalid);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `${invalid}:6:20: components[0].container.memoryLimit must be a quantity such as 512Mi`,
    );
  });

  it("exits 1 under --rules gitlab with GitLab's message", () => {
    const r = run("--rules", "gitlab", invalid);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("No component has 'gl/inject-editor' attribute");
  });

  it("gives the errors as data with --json", () => {
    const r = run("--json", invalid, valid);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.rules).toBe("default");
    expect(out.files[0].valid).toBe(false);
    expect(out.files[0].errors[0]).toMatchObject({
      file: invalid,
      line: 6,
      column: 20,
      pointer: "/components/0/container/memoryLimit",
      field: "components[0].container.memoryLimit",
      rule: "semantic",
    });
    expect(out.files[1].valid).toBe(true);
  });

  it("exits 2 for a file that does not exist", () => {
    const r = run(join(dir, "missing.yaml"));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot read");
  });

  it("exits 2 on bad usage", () => {
    expect(run("--rules", "strict", valid).status).toBe(2);
  });

  it("exits 0 for a valid devfile, says what it holds, and takes variables with --var", () => {
    const path = write(
      "vars.yaml",
      `schemaVersion: 2.2.0
components:
  - name: tooling
    container:
      image: "{{image}}"
`,
    );
    const r = run("--var", "image=alpine:3", path);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("valid under default rules (schemaVersion 2.2.0, 1 container(s)");
  });

  it("has --help on the devfile group, validate and the interim run", () => {
    const program = new Command("wsparity");
    registerDevfileCommands(program);
    registerRunValidateCommand(program);
    const group = devfileCommand(program);
    expect(group.helpInformation()).toContain("validate [options] <files...>");
    expect(group.commands.find((c) => c.name() === "validate")!.helpInformation()).toContain(
      "--rules <rules>",
    );
    expect(program.commands.find((c) => c.name() === "run")!.helpInformation()).toContain(
      "INTERIM run, until the harness lands",
    );
    // Another module's subcommands join the same group.
    devfileCommand(program).command("to-k8s");
    expect(program.commands.filter((c) => c.name() === "devfile")).toHaveLength(1);
  });

  it("the interim run command says it is interim and prints the summary table", () => {
    const help = spawnSync(process.execPath, ["bin/wsparity.js", "run", "--help"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("INTERIM run, until the harness lands");
    const r = spawnSync(process.execPath, ["bin/wsparity.js", "run", valid, invalid], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("| file | schemaVersion |");
    expect(r.stdout).toContain(
      "invalid: 6:20 components[0].container.memoryLimit must be a quantity such as 512Mi",
    );
  });
});
