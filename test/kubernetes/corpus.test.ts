// Every devfile of the registry corpus and of the project's scenarios becomes objects that pass Kubernetes' schemas.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadDevfile } from "../../src/devfile/index.ts";
import { defaultSettings, desiredConfig, type KubeObject } from "../../src/kubernetes/index.ts";
import { validateObject } from "./validate-models.ts";

const REGISTRY = "test/fixtures/devfiles/registry";
const corpus = readdirSync(REGISTRY)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => join(REGISTRY, f));

describe("desired config for the registry corpus", () => {
  it.each(corpus)("%s validates against the Kubernetes OpenAPI schemas", async (file) => {
    let result = await loadDevfile(file);
    if (!result.ok && result.errors.every((e) => e.rule === "variable")) {
      // Registry devfiles may expect {{variables}} from the user (java-wildfly: imageName): give each a value.
      const names = result.errors.map((e) => /variable '([^']+)'/.exec(e.message)?.[1] ?? "");
      result = await loadDevfile(file, {
        variables: Object.fromEntries(names.map((n) => [n, `value-of-${n}`])),
      });
    }
    if (!result.ok) throw new Error(`${file} does not load: ${JSON.stringify(result.errors[0])}`);
    for (const injectEditor of [true, false]) {
      const objects = desiredConfig(result.spec, defaultSettings(result.spec.name, { injectEditor }));
      for (const o of objects) {
        expect(() => validateObject(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
      }
      const pod = objects.find((o) => o.kind === "Deployment")!.spec.template.spec;
      for (const c of [...pod.containers, ...pod.initContainers])
        expect(c.name.length).toBeLessThanOrEqual(63);
    }
  });
});

describe("wsparity devfile to-k8s", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["bin/wsparity.js", "devfile", "to-k8s", ...args], {
      encoding: "utf8",
      timeout: 30_000,
    });

  it("prints a YAML stream: the namespace first, then GitLab's objects", () => {
    const r = run(join(REGISTRY, "nodejs-2.2.1.yaml"), "--env", "TOKEN=abc", "--name", "ws-one");
    expect(r.status, r.stderr).toBe(0);
    const objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
    expect(objects[0]).toMatchObject({ kind: "Namespace", metadata: { name: "gl-rd-ns-nodejs" } });
    expect(objects.map((o) => o.kind)).toContain("Deployment");
    const secret = objects.find((o) => o.metadata.name === "ws-one-env-var")!;
    expect(Buffer.from(secret.data.TOKEN, "base64").toString()).toBe("abc");
  });

  it("exits 2 for a missing file and 1 for a devfile the rules reject", () => {
    expect(run("no/such/devfile.yaml").status).toBe(2);
    const rejected = run(join(REGISTRY, "nodejs-2.2.1.yaml"), "--rules", "gitlab");
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toMatch(/nodejs-2\.2\.1\.yaml:\d+/);
  });
});
