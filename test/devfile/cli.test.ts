import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

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
  it("exits 0 for a valid devfile and says what it holds", () => {
    const r = run(valid);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("valid under default rules");
    expect(r.stdout).toContain("1 container(s)");
  });

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

  it("takes variables with --var", () => {
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
    expect(r.status).toBe(0);
  });

  it("has --help", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--rules");
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
