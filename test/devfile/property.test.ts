import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  type DevfileResult,
  loadDevfile,
  parseDevfileText,
  precompileSchemas,
} from "../../src/devfile/index.ts";

// Whatever the input, the engine answers: a WorkspaceSpec, or at least one located error. It never throws and
// never takes a second.

beforeAll(() => precompileSchemas(), 60_000);

function expectAnswer(result: DevfileResult, cpuMsUsed: number): void {
  expect(cpuMsUsed).toBeLessThan(1000);
  if (result.ok) {
    expect(Array.isArray(result.spec.containers)).toBe(true);
    expect(result.spec.containers.filter((c) => c.main).length).toBe(
      result.spec.containers.length > 0 ? 1 : 0,
    );
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  for (const e of result.errors) {
    expect(typeof e.pointer).toBe("string");
    expect(e.pointer === "" || e.pointer.startsWith("/")).toBe(true);
    expect(Number.isInteger(e.line) && e.line >= 1).toBe(true);
    expect(Number.isInteger(e.column) && e.column >= 1).toBe(true);
    expect(e.file.length).toBeGreaterThan(0);
    expect(e.message.trim().length).toBeGreaterThan(0);
  }
}

/** CPU time of this process: what a hang would burn, whatever else shares the machine's cores. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function check(text: string, file = "prop.devfile.yaml"): Promise<void> {
  for (const rules of ["default", "gitlab"] as const) {
    const started = process.cpuUsage();
    const result = await parseDevfileText(text, file, { rules });
    expectAnswer(result, cpuMs(started));
  }
}

const name = fc.oneof(
  fc.constantFrom("tools", "db", "gl-tools", "Tools", "a", "cache", "x".repeat(40), "", "ünïcode", "日本"),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.string({ unit: "grapheme", maxLength: 12 }),
);
const wrong = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: wrong });
const quantity = fc.constantFrom("512Mi", "1Gi", "500m", "2", "lots", "512mb", "", "1.5Gi");

const endpoint = fc.record(
  {
    name: maybe(name),
    targetPort: maybe(fc.integer({ min: -5, max: 70_000 })),
    exposure: maybe(fc.constantFrom("public", "internal", "none", "private")),
    protocol: maybe(fc.constantFrom("http", "https", "ws", "wss", "tcp", "udp", "grpc")),
    secure: maybe(fc.boolean()),
    path: maybe(fc.constantFrom("/", "/socket")),
  },
  { requiredKeys: [] },
);
const container = fc.record(
  {
    image: maybe(fc.constantFrom("alpine:3.20", "node:20", "{{image}}", "")),
    memoryLimit: maybe(quantity),
    cpuRequest: maybe(quantity),
    command: maybe(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })),
    args: maybe(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })),
    env: maybe(
      fc.array(fc.record({ name: maybe(name), value: maybe(fc.string({ maxLength: 8 })) }), { maxLength: 3 }),
    ),
    endpoints: maybe(fc.array(endpoint, { maxLength: 4 })),
    mountSources: maybe(fc.boolean()),
    volumeMounts: maybe(
      fc.array(fc.record({ name: maybe(name), path: maybe(fc.constant("/data")) }), { maxLength: 2 }),
    ),
    dedicatedPod: maybe(fc.boolean()),
  },
  { requiredKeys: [] },
);
const component = fc.record(
  {
    name: maybe(name),
    attributes: maybe(
      fc.record(
        {
          "gl/inject-editor": maybe(fc.boolean()),
          overrideCommand: maybe(fc.boolean()),
          "pod-overrides": fc.constant({ spec: {} }),
        },
        { requiredKeys: [] },
      ),
    ),
    container: maybe(container),
    volume: maybe(fc.record({ size: maybe(quantity), ephemeral: maybe(fc.boolean()) }, { requiredKeys: [] })),
    kubernetes: fc.constant({ uri: "deploy.yaml" }),
  },
  { requiredKeys: [] },
);
const command = fc.record(
  {
    id: maybe(name),
    exec: maybe(
      fc.record(
        {
          component: maybe(name),
          commandLine: maybe(fc.string({ maxLength: 10 })),
          hotReloadCapable: maybe(fc.boolean()),
        },
        { requiredKeys: [] },
      ),
    ),
    apply: maybe(fc.record({ component: maybe(name) }, { requiredKeys: [] })),
    // Composites that refer to any generated name make cycles and dangling references.
    composite: maybe(
      fc.record({ commands: fc.array(name, { maxLength: 3 }), parallel: maybe(fc.boolean()) }),
    ),
  },
  { requiredKeys: [] },
);
const devfileLike = fc.record(
  {
    schemaVersion: maybe(fc.constantFrom("2.2.0", "2.2.2", "2.3.0", "2.1.0", "2.0.0", "2.2", "9.9.9", "x")),
    metadata: maybe(fc.record({ name: maybe(name) }, { requiredKeys: [] })),
    components: maybe(fc.array(maybe(component), { maxLength: 5 })),
    commands: maybe(fc.array(maybe(command), { maxLength: 5 })),
    events: maybe(
      fc.record(
        {
          preStart: maybe(fc.array(name, { maxLength: 2 })),
          postStart: maybe(fc.array(name, { maxLength: 2 })),
          preStop: maybe(fc.array(name, { maxLength: 2 })),
        },
        { requiredKeys: [] },
      ),
    ),
    variables: maybe(
      fc.dictionary(fc.constantFrom("image", "gl_x", "tag"), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
    ),
    attributes: maybe(
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    ),
    parent: fc.constant({ id: "nodejs" }),
    projects: fc.constant([{ name: "p", git: { remotes: { origin: "https://example.invalid/p.git" } } }]),
  },
  { requiredKeys: [] },
);

// Valid devfiles by construction: unique names, references that resolve, no cycles.
const dnsName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);
const validDevfile = fc
  .record({
    names: fc.uniqueArray(dnsName, { minLength: 12, maxLength: 12 }),
    containers: fc.integer({ min: 1, max: 3 }),
    volumes: fc.integer({ min: 0, max: 2 }),
    ports: fc.uniqueArray(fc.integer({ min: 1, max: 65_535 }), { minLength: 3, maxLength: 3 }),
    protocol: fc.constantFrom("http", "https", "ws", "wss", "tcp", "udp"),
    exposure: fc.constantFrom("public", "internal", "none"),
    memory: fc.constantFrom("256Mi", "1Gi", "1.5G", "2e9"),
    version: fc.constantFrom("2.2.0", "2.2.1", "2.2.2", "2.3.0"),
    unicode: fc.string({ unit: "grapheme", maxLength: 20 }),
  })
  .map(({ names, containers, volumes, ports, protocol, exposure, memory, version, unicode }) => {
    const containerNames = names.slice(0, containers);
    const volumeNames = names.slice(3, 3 + volumes);
    const [execId, compositeId, endpointName] = [names[6]!, names[7]!, names[8]!];
    return {
      schemaVersion: version,
      metadata: { name: names[9], description: unicode },
      components: [
        ...containerNames.map((n, i) => ({
          name: n,
          ...(i === 0 ? { attributes: { "gl/inject-editor": true } } : {}),
          container: {
            image: "alpine:3.20",
            memoryLimit: memory,
            env: [{ name: "TEXT", value: unicode }],
            endpoints: [{ name: `${endpointName}${i}`, targetPort: ports[i]!, protocol, exposure }],
            volumeMounts: volumeNames.map((v) => ({ name: v, path: `/${v}` })),
          },
        })),
        ...volumeNames.map((n) => ({ name: n, volume: { size: "1Gi" } })),
      ],
      commands: [
        {
          id: execId,
          exec: { component: containerNames[0], commandLine: `echo ${JSON.stringify(unicode)}` },
        },
        { id: compositeId, composite: { commands: [execId] } },
      ],
      events: { postStart: [compositeId] },
    };
  });

/** Every path into a value, so a mutation can pick one. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

type Mutation = "delete" | "replace" | "duplicate";

function mutate(doc: unknown, pick: number, how: Mutation, replacement: unknown): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  const all = paths(copy).filter((p) => p.length > 0);
  const path = all[pick % all.length]!;
  let parent: unknown = copy;
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key];
  const last = path.at(-1)!;
  const holder = parent as Record<string | number, unknown>;
  if (how === "delete") {
    if (Array.isArray(holder)) holder.splice(Number(last), 1);
    else delete holder[last];
  } else if (how === "replace") {
    holder[last] = replacement;
  } else if (Array.isArray(holder)) {
    holder.push(structuredClone(holder[Number(last)]));
  } else {
    holder[last] = [holder[last], holder[last]];
  }
  return copy;
}

const RUNS = { numRuns: 150 };

describe("property: valid devfiles", () => {
  it("always yield a WorkspaceSpec that mirrors them", async () => {
    await fc.assert(
      fc.asyncProperty(validDevfile, async (doc) => {
        // Devfiles are read as YAML 1.1, as the Go devfile library reads them (`on` is a boolean there): written
        // as 1.1, a name such as "on" is quoted and stays a string.
        const result = await parseDevfileText(stringify(doc, { version: "1.1" }), "valid.devfile.yaml");
        if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("\n"));
        const containers = doc.components.filter((c) => "container" in c);
        expect(result.spec.containers.map((c) => c.name)).toEqual(containers.map((c) => c.name));
        expect(result.spec.containers[0]!.main).toBe(true);
        expect(result.spec.volumes).toHaveLength(doc.components.length - containers.length);
        expect(result.spec.containers[0]!.env[0]!.value).toBe(doc.metadata.description);
        expect(result.spec.events.postStart).toEqual(doc.events.postStart);
      }),
      RUNS,
    );
  });

  it("mutated (a key deleted, a value of the wrong type, an element duplicated) still get an answer", async () => {
    await fc.assert(
      fc.asyncProperty(
        validDevfile,
        fc.nat(),
        fc.constantFrom<Mutation>("delete", "replace", "duplicate"),
        wrong,
        async (doc, pick, how, replacement) => {
          await check(stringify(mutate(doc, pick, how, replacement)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("property: any devfile-like document gets an answer", () => {
  it("structured documents with wrong types, missing keys, duplicates and cycles", async () => {
    await fc.assert(
      fc.asyncProperty(devfileLike, async (doc) => {
        await check(stringify(doc));
      }),
      RUNS,
    );
  });

  it("arbitrary YAML values and arbitrary text", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
          fc.string({ unit: "grapheme", maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 300 }),
        ),
        async (text) => {
          await check(text);
        },
      ),
      RUNS,
    );
  });

  it("deep nesting, huge strings and unicode inside a devfile", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
        async (depth, size, text) => {
          const nested = `${"[".repeat(depth)}${JSON.stringify(text)}${"]".repeat(depth)}`;
          await check(
            `schemaVersion: 2.2.0\nmetadata:\n  description: ${JSON.stringify(text.repeat(Math.ceil(size / text.length)).slice(0, size))}\nattributes:\n  deep: ${nested}\ncomponents:\n  - name: a\n    attributes: {gl/inject-editor: true}\n    container: {image: alpine}\n`,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("alias bombs of any shape", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 2, max: 12 }),
        async (levels, width) => {
          const lines = ["l0: &l0 [lol, lol]"];
          for (let i = 1; i < levels; i++)
            lines.push(
              `l${i}: &l${i} [${Array(width)
                .fill(`*l${i - 1}`)
                .join(", ")}]`,
            );
          await check(`schemaVersion: 2.2.0\n${lines.join("\n")}\n`);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("property: parent chains of any shape terminate", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsparity-parents-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("random parent graphs (cycles, self-parents, missing files) give an answer", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), {
          minLength: 1,
          maxLength: 6,
        }),
        async (parents) => {
          const run = mkdtempSync(join(dir, "g-"));
          parents.forEach((parent, i) => {
            const parentLine = parent === undefined ? "" : `parent:\n  uri: ./d${parent}.yaml\n`;
            writeFileSync(
              join(run, `d${i}.yaml`),
              `schemaVersion: 2.2.0\n${parentLine}components:\n  - name: c${i}\n    container: {image: alpine}\n`,
            );
          });
          for (let i = 0; i < parents.length; i++) {
            const started = process.cpuUsage();
            const result = await loadDevfile(join(run, `d${i}.yaml`));
            expectAnswer(result, cpuMs(started));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
