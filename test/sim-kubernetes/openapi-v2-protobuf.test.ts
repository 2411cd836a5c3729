// /openapi/v2 in gnostic's protobuf: every schema keyword kubectl's validation reads survives the encoding, read back
// the way kubectl's proto models read it (YAML text for free-form values), for generated schemas and the served one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { openApiV2Document, openApiV2Protobuf } from "../../src/sim/kubernetes/openapi.ts";
import { encodeOpenApiV2, OPENAPI_V2_ROOT } from "../../src/sim/kubernetes/openapi-v2-protobuf.ts";

const Document = OPENAPI_V2_ROOT.lookupType("openapi.v2.Document");

// biome-ignore lint/suspicious/noExplicitAny: protobufjs plain objects
function schemaOf(m: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["format", "description", "pattern", "minimum", "maximum", "minItems", "readOnly"]) {
    if (m[key] !== undefined) out[key] = typeof m[key] === "object" ? Number(m[key]) : m[key];
  }
  if (m.ref) out.$ref = m.ref;
  if (m.type) out.type = m.type.value[0];
  if (m.items) out.items = schemaOf(m.items.schema[0]);
  if (m.enum) out.enum = m.enum.map((a: { yaml: string }) => parseYaml(a.yaml));
  if (m.default) out.default = parseYaml(m.default.yaml);
  if (m.additionalProperties) {
    out.additionalProperties =
      m.additionalProperties.schema !== undefined
        ? schemaOf(m.additionalProperties.schema)
        : m.additionalProperties.boolean;
  }
  if (m.properties) {
    out.properties = Object.fromEntries(
      (m.properties.additionalProperties ?? []).map((p: { name: string; value: unknown }) => [
        p.name,
        schemaOf(p.value),
      ]),
    );
  }
  for (const ext of m.vendorExtension ?? []) out[ext.name] = parseYaml(ext.value.yaml);
  return out;
}

function definitionsOf(bytes: Buffer): Record<string, Record<string, unknown>> {
  // biome-ignore lint/suspicious/noExplicitAny: protobufjs plain objects
  const doc = Document.toObject(Document.decode(bytes)) as any;
  return Object.fromEntries(
    doc.definitions.additionalProperties.map((d: { name: string; value: unknown }) => [
      d.name,
      schemaOf(d.value),
    ]),
  );
}

// proto3 does not tell a zero value from an unset one (in gnostic's encoding too): generated values are non-zero.
const name = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/);
const { schema } = fc.letrec((tie) => ({
  schema: fc.oneof(
    { depthSize: "small" },
    fc.record(
      {
        type: fc.constantFrom("string", "integer", "boolean", "number"),
        format: fc.constantFrom("int32", "int64", "date-time", "byte"),
        description: fc.string({ minLength: 1 }),
        enum: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
        default: fc.oneof(fc.string({ minLength: 1 }), fc.integer()),
        minimum: fc.integer().filter((n) => n !== 0),
        pattern: fc.string({ minLength: 1 }),
      },
      { requiredKeys: ["type"] },
    ),
    fc.record({ $ref: name.map((n) => `#/definitions/${n}`) }),
    fc.record(
      { type: fc.constant("array"), items: tie("schema"), minItems: fc.integer({ min: 1, max: 5 }) },
      { requiredKeys: ["type", "items"] },
    ),
    fc.record(
      {
        type: fc.constant("object"),
        properties: fc.dictionary(name, tie("schema"), { maxKeys: 3 }),
        additionalProperties: fc.oneof(fc.boolean(), tie("schema")),
        "x-kubernetes-group-version-kind": fc.constant([
          { group: "apps", kind: "Deployment", version: "v1" },
        ]),
        "x-kubernetes-list-type": fc.constantFrom("map", "atomic"),
      },
      { requiredKeys: ["type"] },
    ),
  ),
}));

describe("/openapi/v2 as gnostic's protobuf", () => {
  it("keeps every keyword kubectl reads, for generated schemas", () => {
    fc.assert(
      fc.property(fc.dictionary(name, schema, { minKeys: 1, maxKeys: 4 }), (definitions) => {
        const bytes = encodeOpenApiV2({ swagger: "2.0", info: { title: "t", version: "v" }, definitions });
        expect(definitionsOf(bytes)).toEqual(definitions);
      }),
      { numRuns: 200 },
    );
  });

  it("carries the served Deployment schema with its group-version-kind", () => {
    const defs = definitionsOf(openApiV2Protobuf());
    const served = (openApiV2Document() as { definitions: Record<string, unknown> }).definitions;
    expect(Object.keys(defs).sort()).toEqual(Object.keys(served).sort());
    const deployment = defs["io.k8s.api.apps.v1.Deployment"]!;
    expect(deployment["x-kubernetes-group-version-kind"]).toEqual([
      { group: "apps", kind: "Deployment", version: "v1" },
    ]);
    expect(defs["io.k8s.api.apps.v1.DeploymentSpec"]!.properties).toMatchObject({
      replicas: { type: "integer", format: "int32" },
    });
  });
});
