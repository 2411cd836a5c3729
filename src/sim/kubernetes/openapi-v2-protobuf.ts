// /openapi/v2 in the protobuf form kube-apiserver serves to kubectl (gnostic's openapi.v2.Document), which kubectl's
// client-side validation asks for (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf) when
// server-side field validation cannot judge a document, as for `kind: List`. Only the parts kubectl reads are
// declared: the document's version, info and definitions, and the schema keywords; field numbers are gnostic's.
// Free-form values (defaults, enums, vendor extensions) travel as YAML text, as gnostic carries them.
// `required` is left out: the simulator derives it from the .proto comments' +optional tags, which miss the Go
// omitempty tags kube-openapi reads (PodSpec.initContainers, VolumeSource.projected would be "required"), and
// kubectl would refuse valid documents; the API server's own validation still answers a missing field with 422.
// biome-ignore-all lint/suspicious/noExplicitAny: OpenAPI schemas are free-form JSON
import protobuf from "protobufjs";
import { stringify as stringifyYaml } from "yaml";

/** kube-openapi answers with the dotted spelling: Go's mime parser refuses the "@" that kubectl's Accept has. */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/** Whether an Accept header asks for the protobuf document, in either spelling. */
export function wantsOpenApiV2Protobuf(accept: string | undefined): boolean {
  return /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/.test(accept ?? "");
}

const fields = (spec: Record<string, [number, string, ("repeated" | undefined)?]>) =>
  Object.fromEntries(
    Object.entries(spec).map(([name, [id, type, rule]]) => [name, { id, type, ...(rule ? { rule } : {}) }]),
  );

const root = protobuf.Root.fromJSON({
  nested: {
    openapi: {
      nested: {
        v2: {
          nested: {
            Document: {
              fields: fields({ swagger: [1, "string"], info: [2, "Info"], definitions: [9, "Definitions"] }),
            },
            Info: { fields: fields({ title: [1, "string"], version: [2, "string"] }) },
            Definitions: { fields: fields({ additionalProperties: [1, "NamedSchema", "repeated"] }) },
            Properties: { fields: fields({ additionalProperties: [1, "NamedSchema", "repeated"] }) },
            NamedSchema: { fields: fields({ name: [1, "string"], value: [2, "Schema"] }) },
            Any: { fields: fields({ yaml: [2, "string"] }) },
            NamedAny: { fields: fields({ name: [1, "string"], value: [2, "Any"] }) },
            AdditionalPropertiesItem: {
              oneofs: { oneof: { oneof: ["schema", "boolean"] } },
              fields: fields({ schema: [1, "Schema"], boolean: [2, "bool"] }),
            },
            TypeItem: { fields: fields({ value: [1, "string", "repeated"] }) },
            ItemsItem: { fields: fields({ schema: [1, "Schema", "repeated"] }) },
            Schema: {
              fields: fields({
                ref: [1, "string"],
                format: [2, "string"],
                title: [3, "string"],
                description: [4, "string"],
                default: [5, "Any"],
                multipleOf: [6, "double"],
                maximum: [7, "double"],
                exclusiveMaximum: [8, "bool"],
                minimum: [9, "double"],
                exclusiveMinimum: [10, "bool"],
                maxLength: [11, "int64"],
                minLength: [12, "int64"],
                pattern: [13, "string"],
                maxItems: [14, "int64"],
                minItems: [15, "int64"],
                uniqueItems: [16, "bool"],
                maxProperties: [17, "int64"],
                minProperties: [18, "int64"],
                enum: [20, "Any", "repeated"],
                additionalProperties: [21, "AdditionalPropertiesItem"],
                type: [22, "TypeItem"],
                items: [23, "ItemsItem"],
                allOf: [24, "Schema", "repeated"],
                properties: [25, "Properties"],
                discriminator: [26, "string"],
                readOnly: [27, "bool"],
                example: [30, "Any"],
                vendorExtension: [31, "NamedAny", "repeated"],
              }),
            },
          },
        },
      },
    },
  },
});
/** gnostic's openapi.v2 messages (the declared part), for readers of the encoded document. */
export const OPENAPI_V2_ROOT = root;
const DocumentType = root.lookupType("openapi.v2.Document");

const yamlAny = (value: unknown) => ({ yaml: stringifyYaml(value) });

const COPIED = [
  "format",
  "title",
  "description",
  "multipleOf",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxProperties",
  "minProperties",
  "discriminator",
  "readOnly",
];

function schemaMessage(schema: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of COPIED) if (schema[key] !== undefined) out[key] = schema[key];
  if (schema.$ref) out.ref = schema.$ref;
  if (schema.default !== undefined) out.default = yamlAny(schema.default);
  if (schema.example !== undefined) out.example = yamlAny(schema.example);
  if (schema.enum) out.enum = schema.enum.map(yamlAny);
  if (schema.type) out.type = { value: [schema.type].flat() };
  if (schema.items) out.items = { schema: [schema.items].flat().map(schemaMessage) };
  if (schema.allOf) out.allOf = schema.allOf.map(schemaMessage);
  if (typeof schema.additionalProperties === "boolean") {
    out.additionalProperties = { boolean: schema.additionalProperties };
  } else if (schema.additionalProperties) {
    out.additionalProperties = { schema: schemaMessage(schema.additionalProperties) };
  }
  if (schema.properties) out.properties = named(schema.properties);
  const extensions = Object.entries(schema).filter(([k]) => k.startsWith("x-"));
  if (extensions.length) out.vendorExtension = extensions.map(([name, v]) => ({ name, value: yamlAny(v) }));
  return out;
}

const named = (map: Record<string, any>) => ({
  additionalProperties: Object.entries(map).map(([name, value]) => ({ name, value: schemaMessage(value) })),
});

/** The Swagger 2.0 document as gnostic's protobuf. */
export function encodeOpenApiV2(doc: {
  swagger: string;
  info: unknown;
  definitions: Record<string, any>;
}): Buffer {
  const message = DocumentType.fromObject({
    swagger: doc.swagger,
    info: doc.info,
    definitions: named(doc.definitions),
  });
  return Buffer.from(DocumentType.encode(message).finish());
}
