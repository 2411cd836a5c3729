import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatError, loadDevfile, mainContainer } from "../../src/devfile/index.ts";

const dir = new URL("../fixtures/devfiles/registry/", import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

// java-wildfly references {{imageName}} without defining it; an undefined variable is an error, so the
// test supplies it the way a user would (--var imageName=...).
const variables: Record<string, Record<string, string>> = {
  "java-wildfly-2.0.2.yaml": { imageName: "quay.io/wildfly/wildfly:latest" },
};

describe("devfile registry corpus (default rules)", () => {
  it("has the copied registry devfiles", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  for (const file of files) {
    it(`${file} validates and yields a WorkspaceSpec`, async () => {
      const opts = variables[file] ? { variables: variables[file] } : {};
      const result = await loadDevfile(dir + file, opts);
      if (!result.ok) expect.fail(result.errors.map(formatError).join("\n"));
      const { spec } = result;
      expect(spec.containers.length).toBeGreaterThan(0);
      expect(spec.containers.filter((c) => c.main)).toHaveLength(1);
      expect(mainContainer(spec).image).not.toBe("");
      for (const c of spec.containers) {
        for (const e of c.endpoints) {
          expect(["public", "internal", "none"]).toContain(e.exposure);
          expect(e.targetPort).toBeGreaterThan(0);
        }
      }
      for (const cmd of spec.commands) expect(cmd.id).toBe(cmd.id.toLowerCase());
      expect(JSON.stringify(spec)).not.toContain("{{");
    });
  }

  it("java-wildfly without the variable names the undefined variable", async () => {
    const result = await loadDevfile(`${dir}java-wildfly-2.0.2.yaml`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]!.message).toContain("variable 'imageName' is not defined");
    expect(result.errors[0]!.line).toBe(41);
    expect(result.errors[0]!.field).toBe("components[0].container.env[3].value");
  });
});
