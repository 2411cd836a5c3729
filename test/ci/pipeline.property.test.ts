import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  generatePipeline,
  shellPathWord,
  shellQuote,
  validateCiConfig,
  WORKSPACE_SCRIPT,
} from "../../src/ci/index.ts";
import {
  type ContainerSpec,
  type EndpointSpec,
  resolveCommands,
  type WorkspaceSpec,
} from "../../src/devfile/spec.ts";

// Strings built to break YAML and shell: quotes, $, backquotes, newlines, YAML indicators, unicode line breaks.
const nasty = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom(
      "'",
      '"',
      "$",
      "`",
      "\\",
      "\n",
      "\r",
      ":",
      "#",
      "-",
      "{",
      "}",
      "[",
      "]",
      "&",
      "*",
      "!",
      "|",
      ">",
      "%",
      "@",
      ";",
      "(",
      ")",
      " ",
      "a",
      "0",
      "\u2028",
      "\u0085",
      "\t",
    ),
    maxLength: 30,
  }),
  fc.constantFrom(
    "true",
    "null",
    "~",
    "0x10",
    "1e3",
    "yes",
    "no",
    "$(touch /tmp/pwned)",
    "`id`",
    "a: b",
    "- x",
    "*alias",
    "&anchor",
    "!!binary x",
  ),
);
const devfileName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const envName = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/), nasty);

const endpoint: fc.Arbitrary<EndpointSpec> = fc.record({
  name: devfileName,
  targetPort: fc.integer({ min: 1, max: 65535 }),
  exposure: fc.constantFrom("public", "internal", "none"),
  protocol: fc.constantFrom("http", "https", "ws", "wss", "tcp", "udp"),
  secure: fc.boolean(),
  attributes: fc.constant({}),
});

const containerArb = (name: string, main: boolean): fc.Arbitrary<ContainerSpec> =>
  fc.record({
    name: fc.constant(name),
    image: nasty.filter((s) => s.length > 0),
    env: fc.array(fc.record({ name: envName, value: nasty }), { maxLength: 5 }),
    command: fc.option(fc.array(nasty, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    args: fc.option(fc.array(nasty, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    endpoints: fc.array(endpoint, { maxLength: 3 }),
    memoryLimit: fc.option(fc.constantFrom("512Mi", "1Gi", "2G"), { nil: undefined }),
    cpuLimit: fc.option(fc.constantFrom("500m", "2"), { nil: undefined }),
    mountSources: fc.boolean(),
    sourceMapping: fc.constant("/projects"),
    volumeMounts: fc.array(fc.record({ name: devfileName, path: nasty }), { maxLength: 2 }),
    attributes: fc.constant({}),
    main: fc.constant(main),
  });

const specArb: fc.Arbitrary<WorkspaceSpec> = fc
  .uniqueArray(devfileName, { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc.record({
      name: nasty.filter((s) => s.length > 0),
      containers: fc.tuple(...names.map((n, i) => containerArb(n, i === 0))),
      commands: fc.array(
        fc.record({
          kind: fc.constant("exec" as const),
          id: devfileName,
          component: fc.constantFrom(...names),
          commandLine: nasty,
          workingDir: fc.option(nasty, { nil: undefined }),
          env: fc.array(fc.record({ name: envName, value: nasty }), { maxLength: 2 }),
          hotReloadCapable: fc.constant(false),
        }),
        { maxLength: 4 },
      ),
    }),
  )
  .map(({ name, containers, commands }) => ({
    name,
    schemaVersion: "2.2.0",
    containers,
    volumes: [],
    commands,
    events: {
      preStart: [],
      postStart: commands.map((c) => c.id),
      preStop: commands.slice(0, 1).map((c) => c.id),
      postStop: [],
    },
    attributes: {},
    variables: {},
    ignoredComponents: [],
  }));

const target = fc.record({
  executor: fc.constantFrom("shell" as const, "docker" as const, "kubernetes" as const),
  arch: fc.constantFrom("amd64" as const, "arm64" as const),
});

type Job = {
  variables: Record<string, unknown>;
  services: { variables?: Record<string, unknown> }[];
  script: unknown;
};

describe("generatePipeline properties", () => {
  it("every WorkspaceSpec gives YAML that parses back to the same config and passes GitLab's CI schema", () => {
    fc.assert(
      fc.property(specArb, target, (spec, options) => {
        const { yaml, config } = generatePipeline(spec, options);
        expect(parse(yaml)).toEqual(config);
        expect(validateCiConfig(parse(yaml)).errors).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("env values arrive byte for byte, never expanded, and the job script stays constant", () => {
    fc.assert(
      fc.property(specArb, target, (spec, options) => {
        const job = parse(generatePipeline(spec, options).yaml).workspace as Job;
        expect(job.script).toEqual(WORKSPACE_SCRIPT);
        for (const env of spec.containers[0]!.env) {
          const v = job.variables[env.name];
          if (v === undefined) continue;
          const last = [...spec.containers[0]!.env].reverse().find((e) => e.name === env.name)!;
          if (typeof v === "string") {
            expect(v).toBe(last.value);
            expect(v).not.toContain("$");
          } else expect(v).toEqual({ value: last.value, expand: false });
        }
      }),
      { numRuns: 100 },
    );
  });

  it("shellQuote and shellPathWord give bash words that are exactly the input (one bash run per batch)", () => {
    const noNul = (s: string) => !s.includes("\0");
    fc.assert(
      fc.property(fc.array(nasty.filter(noNul), { minLength: 1, maxLength: 40 }), (values) => {
        const script = values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join("\n");
        const out = spawnSync("bash", ["-c", script], { encoding: "utf8", env: {} });
        expect(out.stdout.split("\0").slice(0, -1)).toEqual(values);
        const paths = values
          .map((v) => `printf '%s\\0' ${shellPathWord(`\${PROJECT_SOURCE}/${v}`)}`)
          .join("\n");
        const outPaths = spawnSync("bash", ["-c", paths], {
          encoding: "utf8",
          env: { PROJECT_SOURCE: "/src" },
        });
        expect(outPaths.stdout.split("\0").slice(0, -1)).toEqual(values.map((v) => `/src/${v}`));
      }),
      { numRuns: 25 },
    );
  });

  it("event scripts hand each devfile command line, unchanged, to its own bash -c: nothing escapes its word", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-fakebash-"));
    // A `bash` first on PATH that records the command line it was asked to run.
    writeFileSync(join(dir, "bash"), '#!/bin/sh\nprintf "%s\\0" "$2" >> "$RECORD"\n', { mode: 0o755 });
    fc.assert(
      fc.property(specArb, (generated) => {
        const spec = {
          ...generated,
          commands: generated.commands.map((c) => ({ ...c, workingDir: undefined })),
        };
        const job = parse(generatePipeline(spec, { executor: "shell", arch: "amd64" }).yaml).workspace as Job;
        const postStart = job.variables.WSPARITY_POST_START as { value: string } | undefined;
        const expected = resolveCommands(spec, spec.events.postStart).map((c) => c.commandLine);
        if (!postStart) {
          expect(expected).toEqual([]);
          return;
        }
        const record = join(dir, "record");
        rmSync(record, { force: true });
        const run = spawnSync("/bin/bash", ["-c", postStart.value], {
          encoding: "utf8",
          env: { PATH: dir, RECORD: record },
        });
        expect(run.status, run.stderr).toBe(0);
        const seen = existsSync(record) ? readFileSync(record, "utf8").split("\0").slice(0, -1) : [];
        expect(seen).toEqual(expected.map((line) => line.replaceAll("\0", "")));
      }),
      { numRuns: 50 },
    );
  });
});
