import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fromFieldsV1,
  pathsOf,
  planApply,
  recordUpdate,
  toFieldsV1,
} from "../../src/sim/kubernetes/managed-fields.ts";
import { strategicMergePatch } from "../../src/sim/kubernetes/patch.ts";

const apply = (live: unknown, config: unknown, manager: string, force = false) => {
  const { base, managedFields } = planApply(live, config, manager, "v1", force);
  const merged = live ? strategicMergePatch(base, config) : structuredClone(config);
  merged.metadata.managedFields = managedFields;
  return merged;
};
const cm = (data: Record<string, string>, labels?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", ...(labels ? { labels } : {}) },
  data,
});

describe("server-side apply field ownership", () => {
  it("FieldsV1 round-trips the paths an object sets", () => {
    const key = fc.stringMatching(/^[a-z]{1,6}$/);
    const obj = fc.dictionary(key, fc.oneof(fc.string(), fc.dictionary(key, fc.string(), { minKeys: 1 })), {
      minKeys: 1,
    });
    fc.assert(
      fc.property(obj, (o) => {
        const paths = pathsOf({ data: o });
        expect(fromFieldsV1(toFieldsV1(paths))).toEqual(paths);
      }),
    );
  });

  it("one manager re-applying its own objects never conflicts, and drops what it stops applying", () => {
    const first = apply(undefined, cm({ a: "1", b: "2" }, { app: "x" }), "agentk");
    const second = apply(first, cm({ a: "9" }, { app: "x" }), "agentk");
    expect(second.data).toEqual({ a: "9" });
    expect(second.metadata.managedFields).toHaveLength(1);
    expect(second.metadata.managedFields[0]).toMatchObject({
      manager: "agentk",
      operation: "Apply",
      fieldsV1: { "f:data": { "f:a": {} }, "f:metadata": { "f:labels": { "f:app": {} } } },
    });
  });

  it("answers 409 with Kubernetes' wording when another manager owns a field set to another value", () => {
    const first = apply(undefined, cm({ a: "1" }), "one");
    expect(() => apply(first, cm({ a: "2" }), "two")).toThrow(
      expect.objectContaining({
        code: 409,
        reason: "Conflict",
        message: 'Apply failed with 1 conflict: conflict with "one": .data.a',
      }),
    );
    // The same value is shared ownership, not a conflict.
    const shared = apply(first, cm({ a: "1" }), "two");
    expect(shared.metadata.managedFields.map((e: { manager: string }) => e.manager)).toEqual(["one", "two"]);
  });

  it("moves ownership with force, and keeps a field another manager still owns", () => {
    const first = apply(undefined, cm({ a: "1", b: "1" }), "one");
    const forced = apply(first, cm({ a: "2" }), "two", true);
    expect(forced.data).toEqual({ a: "2", b: "1" });
    const owners = Object.fromEntries(
      forced.metadata.managedFields.map((e: { manager: string; fieldsV1: unknown }) => [
        e.manager,
        e.fieldsV1,
      ]),
    );
    expect(owners).toEqual({ one: { "f:data": { "f:b": {} } }, two: { "f:data": { "f:a": {} } } });
    // "one" stops applying b: nobody else owns it, so it goes.
    const dropped = apply(forced, cm({}), "one");
    expect(dropped.data).toEqual({ a: "2" });
  });

  it("an Update takes the fields it changes, and a later apply of them conflicts with it", () => {
    const first = apply(undefined, cm({ a: "1" }), "agentk");
    const edited = structuredClone(first);
    edited.data.a = "edited";
    edited.metadata.managedFields = recordUpdate(first, edited, "kubectl-edit", "v1");
    expect(edited.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: "kubectl-edit",
        operation: "Update",
        fieldsV1: { "f:data": { "f:a": {} } },
      }),
    ]);
    expect(() => apply(edited, cm({ a: "1" }), "agentk")).toThrow(
      /conflict with "kubectl-edit" using v1 at .*: \.data\.a/,
    );
  });
});
