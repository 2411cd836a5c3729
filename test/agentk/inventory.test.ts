import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inventoryKey, parseInventoryKey, refOf } from "../../src/agentk/inventory.ts";

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

describe("cli-utils inventory keys", () => {
  it("round-trip every object reference, core group included (property)", () => {
    fc.assert(
      fc.property(
        label,
        label,
        fc.constantFrom("", "apps", "networking.k8s.io"),
        fc.constantFrom("Deployment", "Secret", "ConfigMap"),
        (namespace, name, group, kind) => {
          const ref = { namespace, name, group, kind };
          expect(parseInventoryKey(inventoryKey(ref))).toEqual(ref);
        },
      ),
    );
  });

  it("reads an object's group from its apiVersion and refuses keys that are not four fields", () => {
    expect(refOf({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "w" } }, "ns")).toEqual({
      group: "apps",
      kind: "Deployment",
      namespace: "ns",
      name: "w",
    });
    expect(
      inventoryKey(
        refOf({ apiVersion: "v1", kind: "Service", metadata: { name: "w", namespace: "a" } }, "ns"),
      ),
    ).toBe("a_w__Service");
    expect(parseInventoryKey("a_b_c")).toBeUndefined();
    expect(parseInventoryKey("_w_apps_Deployment")).toBeUndefined();
  });
});
