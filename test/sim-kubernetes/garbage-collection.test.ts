import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kubernetes/objects.ts";
import { typeByPlural } from "../../src/sim/kubernetes/resources.ts";
import { ObjectStore } from "../../src/sim/kubernetes/store.ts";

const configMaps = typeByPlural("", "v1", "configmaps")!;
const secrets = typeByPlural("", "v1", "secrets")!;

function ownerAndDependent(store: ObjectStore): { owner: KubeObject; dependent: KubeObject } {
  const owner = store.create(configMaps, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "owner", namespace: "default" },
  });
  const dependent = store.create(secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "dependent",
      namespace: "default",
      finalizers: ["example.com/hold"],
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "owner",
          uid: owner.metadata.uid!,
          blockOwnerDeletion: true,
        },
      ],
    },
  });
  return { owner, dependent };
}

describe("deletion with a propagationPolicy, as the garbage collector does it", () => {
  it("Orphan keeps the dependents and drops their owner reference", () => {
    const store = new ObjectStore();
    ownerAndDependent(store);
    store.delete(configMaps, "default", "owner", { propagation: "Orphan" });
    expect(store.find(configMaps, "default", "owner")).toBeUndefined();
    const kept = store.get(secrets, "default", "dependent");
    expect(kept.metadata.ownerReferences).toBeUndefined();
    expect(kept.metadata.deletionTimestamp).toBeUndefined();
  });

  it("Foreground keeps the owner with foregroundDeletion until its dependents are gone", () => {
    const store = new ObjectStore();
    ownerAndDependent(store);
    const marked = store.delete(configMaps, "default", "owner", { propagation: "Foreground" });
    expect(marked.metadata.finalizers).toEqual(["foregroundDeletion"]);
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    // The dependent is being deleted but its own finalizer holds it, so the owner waits.
    expect(store.get(secrets, "default", "dependent").metadata.deletionTimestamp).toBeTruthy();
    expect(store.find(configMaps, "default", "owner")).toBeDefined();
    const held = store.get(secrets, "default", "dependent");
    store.update(secrets, { ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(store.find(secrets, "default", "dependent")).toBeUndefined();
    expect(store.find(configMaps, "default", "owner")).toBeUndefined();
  });

  it("Background deletes the owner first, then the dependents", () => {
    const store = new ObjectStore();
    ownerAndDependent(store);
    store.delete(configMaps, "default", "owner");
    expect(store.find(configMaps, "default", "owner")).toBeUndefined();
    expect(store.get(secrets, "default", "dependent").metadata.deletionTimestamp).toBeTruthy();
  });
});
