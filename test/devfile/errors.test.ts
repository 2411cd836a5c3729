import { describe, expect, it } from "vitest";
import { fieldOf } from "../../src/devfile/errors.ts";
import { type DevfileError, formatError, parseDevfileText } from "../../src/devfile/index.ts";

async function errors(text: string): Promise<DevfileError[]> {
  const result = await parseDevfileText(text, "devfile.yaml");
  if (result.ok) throw new Error("expected the devfile to be invalid");
  return result.errors;
}

const brief = (e: DevfileError) => `${e.line}:${e.column} ${e.field} | ${e.message}`;

describe("errors a person can act on", () => {
  it("formats as file:line:column: message", () => {
    expect(
      formatError({ file: "a/devfile.yaml", line: 3, column: 7, pointer: "/x", field: "x", message: "bad" }),
    ).toBe("a/devfile.yaml:3:7: bad");
  });

  it("turns pointers into dotted fields", () => {
    expect(fieldOf("/components/1/container/memoryLimit")).toBe("components[1].container.memoryLimit");
    expect(fieldOf("/components/0/attributes/gl~1inject-editor")).toBe(
      'components[0].attributes["gl/inject-editor"]',
    );
    expect(fieldOf("")).toBe("");
  });

  it("reports every schema error, in file order, without oneOf noise", async () => {
    const found = await errors(`schemaVersion: 2.2.0
components:
  - name: Tools
    container:
      image: alpine
      memoryLimit: 512
      endpoints:
        - name: web
          targetPort: http
  - name: nothing
  - name: both
    container: {image: x}
    volume: {}
commands:
  - id: run
    exec: {component: tools}
`);
    expect(found.map(brief)).toEqual([
      "3:11 components[0].name | components[0].name must be lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. my-component), not the string \"Tools\"",
      "6:20 components[0].container.memoryLimit | components[0].container.memoryLimit must be a quantity such as 512Mi, written as a string, not number 512",
      '9:23 components[0].container.endpoints[0].targetPort | components[0].container.endpoints[0].targetPort must be a whole number, not the string "http"',
      "10:5 components[1] | components[1] must have one of: container, kubernetes, openshift, volume, image",
      "11:5 components[2] | components[2] must set exactly one of container, kubernetes, openshift, volume, image; it sets container and volume: keep one",
      "16:11 commands[0].exec.commandLine | commands[0].exec is missing the required field 'commandLine'",
    ]);
    for (const e of found) expect(e.rule).toBe("schema");
  });

  it("suggests the field a typo meant", async () => {
    const found = await errors(
      "schemaVersion: 2.2.0\ncomponents:\n  - name: a\n    container: {image: x, memoryLimt: 1Gi}\n",
    );
    expect(found.map((e) => e.message)).toEqual([
      "components[0].container has an unknown field 'memoryLimt': did you mean 'memoryLimit'?",
    ]);
  });

  it("checks what the schema cannot: quantities, references, unique names, event kinds", async () => {
    const found = await errors(`schemaVersion: 2.2.0
components:
  - name: a
    container:
      image: x
      memoryLimit: 512mb
      volumeMounts: [{name: data, path: /data}]
  - name: a
    volume: {size: 1Gi}
commands:
  - id: setup
    exec: {component: a, commandLine: make}
events:
  preStart: [setup]
`);
    expect(found.map(brief)).toEqual([
      '6:20 components[0].container.memoryLimit | components[0].container.memoryLimit must be a quantity such as 512Mi, not "512mb"',
      "7:29 components[0].container.volumeMounts[0].name | components[0].container.volumeMounts[0] mounts 'data', which is not a component: add a volume component named 'data'",
      "8:11 components[1].name | components[1].name 'a' is used by another component: names must be unique",
      "14:14 events.preStart[0] | events.preStart[0] 'setup' is exec; preStart events run apply commands only",
    ]);
  });

  it("follows the rest of the devfile validation rules", async () => {
    const found = await errors(`schemaVersion: 2.2.0
projects:
  - name: app
    git:
      remotes: {origin: "https://example.invalid/a.git", fork: "https://example.invalid/b.git"}
components:
  - name: a
    container:
      image: x
      memoryRequest: 2Gi
      memoryLimit: 1Gi
      env: [{name: PROJECT_SOURCE, value: /src}]
      endpoints: [{name: web, targetPort: 8080}]
  - name: b
    container:
      image: y
      dedicatedPod: true
      endpoints: [{name: api, targetPort: 8080}]
  - name: data
    volume: {}
commands:
  - id: one
    exec: {component: a, commandLine: make, group: {kind: build, isDefault: true}}
  - id: two
    exec: {component: a, commandLine: make all, group: {kind: build, isDefault: true}}
  - id: mount
    apply: {component: data}
`);
    expect(found.map((e) => e.message)).toEqual([
      "projects[0].git has 2 remotes: say which one under checkoutFrom.remote",
      "components[0].container.memoryRequest 2Gi is more than its memoryLimit 1Gi: a request cannot exceed the limit",
      "components[0].container.env[0] sets PROJECT_SOURCE, which the workspace sets itself: rename it",
      "commands 'one' and 'two' are all the default 'build' command: keep isDefault on one",
      "commands[2].apply.component 'data' is a volume; apply commands run container, kubernetes, openshift or image components",
    ]);
  });

  it("warns, without failing, where the devfile specification only warns", async () => {
    const result = await parseDevfileText(
      `schemaVersion: 2.2.0
components:
  - name: a
    container: {image: x}
  - name: deploy
    kubernetes: {uri: deploy.yaml}
commands:
  - id: one
    exec: {component: a, commandLine: make, group: {kind: build}}
  - id: two
    exec: {component: a, commandLine: make all, group: {kind: build}}
`,
      "devfile.yaml",
    );
    if (!result.ok) expect.fail(result.errors.map(formatError).join("\n"));
    expect(result.warnings.map((w) => `${w.line}:${w.column} ${w.rule} ${w.message}`)).toEqual([
      "8:5 semantic commands 'one', 'two' are all 'build' commands and none is the default: tools pick one; set isDefault: true on one",
      "6:17 ignored component 'deploy' is a kubernetes component: a workspace does not run it (listed in spec.ignoredComponents)",
    ]);
  });

  it("picks the schema by schemaVersion and says which versions exist", async () => {
    const [error] = await errors("schemaVersion: 3.0.0\n");
    expect(error!.message).toBe(
      'schemaVersion "3.0.0" is not a devfile version this tool has a schema for (2.0.0–2.3.0); use one of 2.0.0, 2.1.0, 2.2.0, 2.2.1, 2.2.2, 2.3.0',
    );
    expect([error!.line, error!.column]).toEqual([1, 16]);
    // 2.1.0 has no image components: the 2.1.0 schema says so.
    const old = await errors(
      "schemaVersion: 2.1.0\ncomponents:\n  - name: a\n    image: {imageName: x, dockerfile: {uri: D}}\n",
    );
    expect(old[0]!.message).toContain("must have one of: container, kubernetes, openshift, volume");
  });

  it("refuses alias bombs with a clear error", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(", ")}]`,
      );
    }
    const started = performance.now();
    const [error] = await errors(levels.join("\n"));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error!.message).toContain("refused as an alias bomb");
    expect(error!.line).toBe(3); // where the expansion budget runs out
  });

  it("refuses files over 3 MB before parsing them", async () => {
    const text = `schemaVersion: 2.2.0\nmetadata:\n  description: "${"x".repeat(3 * 1024 * 1024)}"\n`;
    const [error] = await errors(text);
    expect(error!.rule).toBe("size");
    expect(error!.message).toContain("GitLab refuses devfiles over 3 MB");
  });

  it("refuses absurd nesting without a stack overflow", async () => {
    const [error] = await errors(`${"[".repeat(5000)}${"]".repeat(5000)}`);
    expect(error!.message).toMatch(/nest/);
  });

  it("gives YAML syntax errors with their position", async () => {
    const found = await errors("schemaVersion: 2.2.0\ncomponents:\n  - name: a\n    container: {image: x\n");
    expect(found[0]!.rule).toBe("yaml");
    expect(found[0]!.message).toMatch(/^YAML syntax: /);
    expect(found[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it("reads YAML 1.1 booleans as GitLab and the devfile library do", async () => {
    const result = await parseDevfileText(
      "schemaVersion: 2.2.0\ncomponents:\n  - name: a\n    attributes: {gl/inject-editor: yes}\n    container: {image: x, mountSources: off}\n",
      "d.yaml",
    );
    expect(
      result.ok && [
        result.spec.containers[0]!.attributes["gl/inject-editor"],
        result.spec.containers[0]!.mountSources,
      ],
    ).toEqual([true, false]);
  });
});
