import { describe, expect, it } from "vitest";
import { type DevfileResult, loadDevfile, parseDevfileText } from "../../src/devfile/index.ts";

const dir = new URL("../fixtures/devfiles/flatten/", import.meta.url).pathname;
const load = (name: string, variables?: Record<string, string>) =>
  loadDevfile(`${dir}${name}.devfile.yaml`, variables ? { variables } : {});

function errorsOf(result: DevfileResult) {
  if (result.ok) throw new Error("expected errors, the devfile was valid");
  return result.errors;
}

describe("flattening a parent", () => {
  it("puts the parent's elements first, applies the overrides, merges events, attributes and variables", async () => {
    const result = await load("child");
    if (!result.ok) expect.fail(result.errors.map((e) => e.message).join("\n"));
    const { devfile, spec } = result;
    expect(devfile.parent).toBeUndefined();
    expect(spec.name).toBe("child");
    expect(spec.containers.map((c) => c.name)).toEqual(["tools", "db"]);
    expect(spec.volumes).toEqual([{ name: "cache", size: "1Gi", ephemeral: false }]);
    const tools = spec.containers[0]!;
    expect(tools.memoryLimit).toBe("2Gi");
    expect(tools.env).toEqual([
      { name: "WHO", value: "overridden" },
      { name: "KEEP", value: "kept" },
    ]);
    // The child's variables win over the parent's, and apply to the parent's content.
    expect(tools.image).toBe("registry.example/tools:2.0");
    expect(tools.main).toBe(true);
    expect(spec.commands.map((c) => c.id)).toEqual(["build", "migrate"]);
    expect(spec.events.postStart).toEqual(["build", "migrate"]);
    expect(spec.attributes).toEqual({ "from-base": true });
    expect(spec.variables).toEqual({ tag: "2.0", who: "base" });
  });

  it("lets the caller's variables override the devfile's", async () => {
    const result = await load("child", { tag: "3.1" });
    expect(result.ok && result.spec.containers[0]!.image).toBe("registry.example/tools:3.1");
  });

  it("finds a cycle and names the files in it", async () => {
    const [error] = errorsOf(await load("cycle-a"));
    expect(error!.message).toBe(
      "parent makes a cycle: cycle-a.devfile.yaml → cycle-b.devfile.yaml → cycle-a.devfile.yaml",
    );
    expect(error!.file).toBe(`${dir}cycle-b.devfile.yaml`);
    expect([error!.line, error!.column]).toEqual([3, 8]);
  });

  it("finds a devfile that is its own parent", async () => {
    const [error] = errorsOf(
      await parseDevfileText("schemaVersion: 2.2.0\nparent:\n  uri: ./self.yaml\n", `${dir}self.yaml`),
    );
    expect(error!.message).toBe("parent makes a cycle: self.yaml → self.yaml");
  });

  it("refuses to redefine a parent's component outside parent overrides", async () => {
    const [error] = errorsOf(await load("redefines-parent"));
    expect(error!.message).toContain("'tools' is already defined in the parent devfile");
    expect(error!.field).toBe("components[0].name");
  });

  it("refuses an override of an element the parent does not have", async () => {
    const [error] = errorsOf(await load("bad-override"));
    expect(error!.message).toBe(
      "parent overrides commands 'deploy', which the referenced devfile does not define",
    );
    expect(error!.line).toBe(5);
  });

  it("names a parent file that does not exist", async () => {
    const [error] = errorsOf(await load("missing-parent"));
    expect(error!.message).toContain("no-such.devfile.yaml does not exist");
    expect(error!.pointer).toBe("/parent/uri");
  });

  it("reports errors inside the parent file at their place in that file", async () => {
    const [error] = errorsOf(await load("broken-parent"));
    expect(error!.file).toBe(`${dir}broken.devfile.yaml`);
    expect([error!.line, error!.column]).toEqual([6, 17]);
    expect(error!.message).toBe(
      "components[0].container.cpuLimit must be a quantity such as 500m, written as a string, not a list",
    );
  });

  it("says a registry parent is not available offline", async () => {
    const [error] = errorsOf(
      await parseDevfileText(
        "schemaVersion: 2.2.0\nparent:\n  id: nodejs\n  registryUrl: https://registry.devfile.io\n",
        "devfile.yaml",
      ),
    );
    expect(error!.message).toContain("in a devfile registry, which is not available offline");
    expect(error!.pointer).toBe("/parent/id");
  });

  it("says a network URI is not available offline", async () => {
    const [error] = errorsOf(
      await parseDevfileText(
        "schemaVersion: 2.2.0\nparent:\n  uri: https://example.invalid/devfile.yaml\n",
        "d.yaml",
      ),
    );
    expect(error!.message).toContain("is a network address, which is not available offline");
  });
});

describe("flattening a plugin (schemaVersion 2.0.0)", () => {
  it("replaces the plugin component by the plugin's components and commands, with overrides", async () => {
    const result = await load("with-plugin");
    if (!result.ok) expect.fail(result.errors.map((e) => e.message).join("\n"));
    expect(result.spec.containers.map((c) => [c.name, c.memoryLimit])).toEqual([
      ["tools", undefined],
      ["linter", "512Mi"],
    ]);
    expect(result.spec.commands.map((c) => c.id)).toEqual(["lint"]);
    expect(JSON.stringify(result.devfile)).not.toContain('"plugin"');
  });
});

describe("variables", () => {
  it("names an undefined variable, where it is used", async () => {
    const text =
      "schemaVersion: 2.2.0\ncomponents:\n  - name: a\n    container:\n      image: 'x:{{missing}}'\n";
    const [error] = errorsOf(await parseDevfileText(text, "v.yaml"));
    expect(error).toMatchObject({
      line: 5,
      column: 14,
      field: "components[0].container.image",
      rule: "variable",
      message:
        "variable 'missing' is not defined: add it under 'variables:' in the devfile, or pass --var missing=VALUE",
    });
  });

  it("leaves schemaVersion and the variables themselves alone", async () => {
    const text =
      "schemaVersion: 2.2.0\nvariables:\n  a: '{{b}}'\ncomponents:\n  - name: a\n    container:\n      image: '{{a}}'\n";
    const result = await parseDevfileText(text, "v.yaml");
    expect(result.ok && result.spec.containers[0]!.image).toBe("{{b}}");
  });
});
