import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adaptForGitlab } from "../../src/devfile/adapt-gitlab.ts";
import { enforceGitlabRestrictions } from "../../src/devfile/gitlab-rules.ts";
import { loadAdaptedForGitlab } from "../../src/devfile/load-adapted.ts";
import { loadScenarios } from "../../src/harness/load-scenarios.ts";
import { sharedPath } from "../support/shared-dir.ts";

const REGISTRY = sharedPath("devfiles/registry");
const name = fc.oneof(
  fc.constantFrom(
    "tools",
    "runtime",
    "mongo",
    "cache",
    "gl-editor",
    "data",
    "a-volume-name-that-is-far-too-long",
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const attributes = fc.record(
  {
    "gl/inject-editor": fc.oneof(fc.boolean(), fc.constant("yes")),
    "pod-overrides": fc.constant({ spec: {} }),
    "container-overrides": fc.constant({ securityContext: {} }),
    overrideCommand: fc.oneof(fc.boolean(), fc.constant("no")),
  },
  { requiredKeys: [] },
);
const container = fc.record(
  {
    image: fc.constant("quay.io/x/y:1"),
    command: fc.constant(["tail"]),
    args: fc.constant(["-f", "/dev/null"]),
    mountSources: fc.boolean(),
    dedicatedPod: fc.boolean(),
    sourceMapping: fc.constant("/projects"),
    endpoints: fc.array(fc.record({ name: name, targetPort: fc.integer({ min: 1, max: 65535 }) }), {
      maxLength: 2,
    }),
    volumeMounts: fc.array(fc.record({ name: name, path: fc.constant("/data") }), { maxLength: 2 }),
  },
  { requiredKeys: ["image"] },
);
const component = fc.oneof(
  fc.record({ name, attributes: maybe(attributes), container }, { requiredKeys: ["name", "container"] }),
  fc.record({ name, volume: fc.constant({ size: "1Gi" }) }),
  fc.record({ name, image: fc.constant({ imageName: "x", dockerfile: { uri: "Dockerfile" } }) }),
  fc.record({ name, kubernetes: fc.constant({ uri: "deploy.yaml" }) }),
);
const commandId = fc.constantFrom("build", "run", "debug", "deploy", "init", "gl-setup");
const command = fc.oneof(
  fc.record(
    {
      id: commandId,
      exec: fc.record(
        {
          component: name,
          commandLine: fc.constant("echo hi"),
          workingDir: fc.constant("/projects/app"),
          group: fc.constant({ kind: "run", isDefault: true }),
          env: fc.array(
            fc.record({ name: fc.constantFrom("A", "B_C"), value: fc.string({ maxLength: 5 }) }),
            {
              maxLength: 2,
            },
          ),
          hotReloadCapable: fc.boolean(),
        },
        { requiredKeys: ["commandLine"] },
      ),
    },
    { requiredKeys: ["id", "exec"] },
  ),
  fc.record({ id: commandId, apply: fc.record({ component: name }) }),
  fc.record({ id: commandId, composite: fc.record({ commands: fc.array(commandId, { maxLength: 3 }) }) }),
);
const events = fc.record(
  {
    preStart: fc.array(commandId, { maxLength: 2 }),
    postStart: fc.array(commandId, { maxLength: 2 }),
    preStop: fc.array(commandId, { maxLength: 2 }),
    postStop: fc.array(commandId, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const devfile = fc.record(
  {
    schemaVersion: fc.constantFrom("2.0.0", "2.1.0", "2.2.0", "2.2.2", "2.3.0", "latest"),
    metadata: fc.constant({ name: "x" }),
    parent: fc.constant({ id: "nodejs" }),
    projects: fc.constant([{ name: "p", git: { remotes: { origin: "https://example.test/p.git" } } }]),
    starterProjects: fc.constant([{ name: "s", zip: { location: "https://example.test/s.zip" } }]),
    attributes: fc.record({ "pod-overrides": fc.constant({ spec: {} }) }, { requiredKeys: [] }),
    components: fc.array(component, { maxLength: 5 }),
    commands: fc.array(command, { maxLength: 5 }),
    events,
    variables: fc.dictionary(fc.constantFrom("version", "gl_token", "GL-x"), fc.string({ maxLength: 4 }), {
      maxKeys: 2,
    }),
  },
  { requiredKeys: ["schemaVersion", "components"] },
);

describe("adaptForGitlab", () => {
  it("leaves a devfile GitLab rejects either accepted or with the reason for every rule still broken (property)", () => {
    fc.assert(
      fc.property(devfile, (input) => {
        const { devfile: adapted, cannot } = adaptForGitlab(input as Record<string, unknown>);
        const still = enforceGitlabRestrictions(adapted, { processed: false });
        expect(cannot.map(({ pointer, message }) => ({ pointer, message }))).toEqual(still);
        for (const left of cannot) expect(left.why, `no reason for: ${left.message}`).toBeDefined();
      }),
      { numRuns: 400 },
    );
  });

  it("changes nothing in a devfile GitLab accepts, and nothing more on a second pass (property)", () => {
    fc.assert(
      fc.property(devfile, (input) => {
        const once = adaptForGitlab(input as Record<string, unknown>);
        const twice = adaptForGitlab(once.devfile);
        expect(twice.changes).toEqual([]);
        expect(twice.devfile).toEqual(once.devfile);
        if (enforceGitlabRestrictions(input, { processed: false }).length === 0) {
          expect(once.changes).toEqual([]);
          expect(once.devfile).toEqual(input);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps what the devfile runs: the declared command stays (overrideCommand false), env moves into the command line, composites expand in events", () => {
    const { devfile, changes, cannot } = adaptForGitlab({
      schemaVersion: "2.2.2",
      components: [
        { name: "img", image: { imageName: "x" } },
        { name: "runtime", container: { image: "node:20", command: ["tail"], args: ["-f", "/dev/null"] } },
      ],
      commands: [
        {
          id: "install",
          exec: {
            component: "runtime",
            commandLine: "npm ci",
            env: [{ name: "CI", value: "it's" }],
            group: { kind: "build" },
          },
        },
        { id: "build-image", apply: { component: "img" } },
        { id: "setup", composite: { commands: ["build-image", "install"] } },
      ],
      events: { postStart: ["setup"], preStop: ["install"] },
    });
    expect(cannot).toEqual([]);
    expect(devfile).toEqual({
      schemaVersion: "2.2.0",
      components: [
        {
          name: "runtime",
          attributes: { overrideCommand: false, "gl/inject-editor": true },
          container: { image: "node:20", command: ["tail"], args: ["-f", "/dev/null"] },
        },
      ],
      commands: [
        { id: "install", exec: { component: "runtime", commandLine: `export CI='it'"'"'s'; npm ci` } },
      ],
      events: { postStart: ["install"] },
    });
    expect(changes.map((c) => c.pointer)).toEqual([
      "/schemaVersion",
      "/components/0",
      "/components/1/attributes/overrideCommand",
      "/components/1/attributes/gl~1inject-editor",
      "/commands/0/exec/group",
      "/commands/0/exec/env",
      "/commands/1",
      "/commands/2",
      "/events/postStart",
      "/events/preStop",
    ]);
  });

  it("says why it leaves a name starting gl- alone", () => {
    const { cannot } = adaptForGitlab({
      schemaVersion: "2.2.0",
      components: [{ name: "gl-tools", attributes: { "gl/inject-editor": true }, container: { image: "x" } }],
    });
    expect(cannot).toEqual([
      {
        pointer: "/components/0/name",
        message: "Component name 'gl-tools' must not start with 'gl-'",
        why: expect.stringMatching(/GitLab's own/),
      },
    ]);
  });

  it("makes the registry devfiles of issue 11 acceptable to GitLab (needs ../shared/devfiles/registry)", async (ctx) => {
    if (!REGISTRY)
      ctx.skip("../shared/devfiles/registry is not here (registry devfiles are not copied into the project)");
    for (const file of ["nodejs-2.2.1.yaml", "python-3.1.0.yaml", "nodejs-mongodb-default.yaml"]) {
      const adapted = await loadAdaptedForGitlab(join(REGISTRY!, file));
      expect(adapted.byGitlab.ok ? [] : adapted.byGitlab.errors, file).toEqual([]);
      expect(adapted.changes.length, file).toBeGreaterThan(3);
    }
  });
});

describe("run --adapt gitlab (loading scenarios)", () => {
  it("runs the adapted devfile on both paths and lists every change; without it GitLab's messages stay", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wsparity-adapt-"));
    const file = join(dir, "app.devfile.yaml");
    await writeFile(
      file,
      [
        "schemaVersion: 2.2.2",
        "metadata: { name: app }",
        "starterProjects:",
        "  - name: s",
        "    git: { remotes: { origin: 'https://example.test/s.git' } }",
        "components:",
        "  - name: tools",
        "    container: { image: 'node:20', mountSources: true }",
        "commands:",
        "  - id: run",
        "    exec: { component: tools, commandLine: 'node -v', group: { kind: run } }",
        "",
      ].join("\n"),
    );
    const [plain] = await loadScenarios([file]);
    expect(plain!.rejected.kubernetes).toMatch(/^GitLab rejects this devfile: /);
    expect(plain!.gitlabRejects).toHaveLength(5);
    expect(plain!.adaptations).toEqual([]);
    const [adapted] = await loadScenarios([file], {}, "gitlab");
    expect(adapted!.rejected).toEqual({});
    expect(adapted!.gitlabRejects).toEqual([]);
    expect(adapted!.adaptations.map((a) => a.pointer)).toEqual([
      "/schemaVersion",
      "/starterProjects",
      "/components/0/container/mountSources",
      "/components/0/attributes/gl~1inject-editor",
      "/commands/0/exec/group",
    ]);
    expect(adapted!.spec!.containers[0]!.main).toBe(true);
  });
});
