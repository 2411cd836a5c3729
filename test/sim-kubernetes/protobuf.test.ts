import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeObject,
  decodeWatchFrames,
  encodeObject,
  encodeWatchFrame,
} from "../../src/sim/kubernetes/protobuf.ts";

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/);
const text = fc.string({ minLength: 1, maxLength: 20 });
const labels = fc.dictionary(dnsLabel, dnsLabel, { minKeys: 1, maxKeys: 4 });
// apimachinery's Time carries whole seconds on the wire.
const time = fc
  .integer({ min: 0, max: 4_000_000_000 })
  .map((s) => new Date(s * 1000).toISOString().replace(/\.\d+Z$/, "Z"));
const intOrString = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom("25%", "http", "1"));
const quantity = fc.constantFrom("1", "500m", "1Gi", "128Mi", "2");
const metadata = fc.record(
  {
    name: dnsLabel,
    namespace: dnsLabel,
    labels,
    annotations: fc.dictionary(dnsLabel, text, { minKeys: 1, maxKeys: 3 }),
    creationTimestamp: time,
    resourceVersion: fc.integer({ min: 1 }).map(String),
    finalizers: fc.array(dnsLabel, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ["name"] },
);
const container = fc.record(
  {
    name: dnsLabel,
    image: text,
    command: fc.array(text, { minLength: 1, maxLength: 3 }),
    env: fc.array(fc.record({ name: dnsLabel, value: text }), { minLength: 1, maxLength: 3 }),
    ports: fc.array(
      fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constant("TCP") }),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
    resources: fc.record({
      limits: fc.dictionary(fc.constantFrom("cpu", "memory"), quantity, { minKeys: 1 }),
    }),
    securityContext: fc.record({ runAsUser: fc.integer({ min: 0, max: 65535 }), privileged: fc.boolean() }),
  },
  { requiredKeys: ["name", "image"] },
);
const volume = fc.oneof(
  fc.record({ name: dnsLabel, emptyDir: fc.constant({}) }),
  fc.record({ name: dnsLabel, configMap: fc.record({ name: dnsLabel }) }),
  fc.record({ name: dnsLabel, persistentVolumeClaim: fc.record({ claimName: dnsLabel }) }),
);
const configMap = fc.record(
  {
    apiVersion: fc.constant("v1"),
    kind: fc.constant("ConfigMap"),
    metadata,
    data: fc.dictionary(dnsLabel, text, { minKeys: 1 }),
    immutable: fc.boolean(),
  },
  { requiredKeys: ["apiVersion", "kind", "metadata"] },
);
const secret = fc.record({
  apiVersion: fc.constant("v1"),
  kind: fc.constant("Secret"),
  metadata,
  type: fc.constantFrom("Opaque", "kubernetes.io/dockerconfigjson"),
  data: fc.dictionary(
    dnsLabel,
    fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => Buffer.from(b).toString("base64")),
    { minKeys: 1 },
  ),
});
const deployment = fc.record({
  apiVersion: fc.constant("apps/v1"),
  kind: fc.constant("Deployment"),
  metadata,
  spec: fc.record(
    {
      replicas: fc.integer({ min: 0, max: 10 }),
      selector: fc.record({ matchLabels: labels }),
      strategy: fc.record({
        type: fc.constant("RollingUpdate"),
        rollingUpdate: fc.record({ maxSurge: intOrString, maxUnavailable: intOrString }),
      }),
      template: fc.record({
        metadata: fc.record({ labels }),
        spec: fc.record(
          {
            containers: fc.array(container, { minLength: 1, maxLength: 3 }),
            volumes: fc.array(volume, { minLength: 1, maxLength: 3 }),
            automountServiceAccountToken: fc.boolean(),
            terminationGracePeriodSeconds: fc.integer({ min: 0, max: 300 }),
          },
          { requiredKeys: ["containers"] },
        ),
      }),
    },
    { requiredKeys: ["selector", "template"] },
  ),
});
const service = fc.record({
  apiVersion: fc.constant("v1"),
  kind: fc.constant("Service"),
  metadata,
  spec: fc.record({
    selector: labels,
    ports: fc.array(
      fc.record({ name: dnsLabel, port: fc.integer({ min: 1, max: 65535 }), targetPort: intOrString }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
});

// Generated objects are in their canonical JSON form: Go leaves empty maps and lists out of both encodings.
describe("Kubernetes protobuf bodies (k8s\\0 + runtime.Unknown)", () => {
  it("round-trip every served kind's JSON form unchanged", () => {
    fc.assert(
      fc.property(fc.oneof(configMap, secret, deployment, service), (o) => {
        const wire = encodeObject(o);
        expect([...wire.subarray(0, 4)]).toEqual([0x6b, 0x38, 0x73, 0x00]);
        expect(decodeObject(wire)).toEqual(o);
      }),
      { numRuns: 300 },
    );
  });

  it("carry watch events as length-prefixed WatchEvents whose object is itself an envelope", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("ADDED", "MODIFIED", "DELETED"), configMap), { maxLength: 5 }),
        (events) => {
          const stream = Buffer.concat(events.map(([type, o]) => encodeWatchFrame(type, o)));
          expect(decodeWatchFrames(stream)).toEqual(events.map(([type, object]) => ({ type, object })));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("keep managedFields' FieldsV1 and leave Go's zero time out", () => {
    const o = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "m",
        managedFields: [
          {
            manager: "kubectl",
            operation: "Apply",
            apiVersion: "v1",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:data": { "f:a": {} } },
          },
        ],
      },
    };
    expect(decodeObject(encodeObject(o))).toEqual(o);
  });

  it("reject a body without the k8s\\0 prefix", () => {
    expect(() => decodeObject(Buffer.from('{"kind":"Pod"}'))).toThrow(/k8s\\0 prefix/);
  });
});
