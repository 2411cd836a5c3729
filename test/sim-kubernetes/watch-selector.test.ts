import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { typeByPlural } from "../../src/sim/kubernetes/resources.ts";
import { parseLabelSelector } from "../../src/sim/kubernetes/selectors.ts";
import { ObjectStore, type WatchEvent } from "../../src/sim/kubernetes/store.ts";

const configMaps = typeByPlural("", "v1", "configmaps")!;
const cm = (tier: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "default", labels: { tier } },
});

describe("a watch with a label selector sees the object enter and leave it", () => {
  it("ADDED when a change makes it match, DELETED (old object, new resourceVersion) when it stops", () => {
    const store = new ObjectStore();
    const seen: WatchEvent[] = [];
    store.watch(
      { rt: configMaps, namespace: "default", select: parseLabelSelector("tier=web") },
      undefined,
      (e) => seen.push(e),
    );
    store.create(configMaps, cm("db"));
    const live = store.get(configMaps, "default", "c");
    const web = store.update(configMaps, {
      ...live,
      metadata: { ...live.metadata, labels: { tier: "web" } },
    });
    const db = store.update(configMaps, { ...web, metadata: { ...web.metadata, labels: { tier: "db" } } });
    store.delete(configMaps, "default", "c");
    expect(seen.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
    expect(seen[1]!.object.metadata.labels).toEqual({ tier: "web" });
    expect(seen[1]!.object.metadata.resourceVersion).toBe(db.metadata.resourceVersion);
  });

  it("replaying from a resourceVersion gives a filtered informer the same view as following live", () => {
    const tiers = fc.array(fc.constantFrom("web", "db", "cache"), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(tiers, (sequence) => {
        const store = new ObjectStore();
        const start = Number(store.resourceVersion);
        const live: string[] = [];
        const filter = {
          rt: configMaps,
          namespace: "default",
          select: parseLabelSelector("tier in (web,cache)"),
        };
        store.watch(filter, undefined, (e) => live.push(e.type));
        store.create(configMaps, cm(sequence[0]!));
        for (const tier of sequence.slice(1)) {
          const o = store.get(configMaps, "default", "c");
          store.update(configMaps, { ...o, metadata: { ...o.metadata, labels: { tier } } });
        }
        const replayed: string[] = [];
        store.watch(filter, start, (e) => replayed.push(e.type));
        expect(replayed).toEqual(live);
        // An informer's cache: present exactly when the last state matches.
        const present = live.reduce(
          (has, t) => (t === "DELETED" ? false : t === "ADDED" ? true : has),
          false,
        );
        expect(present).toBe(sequence[sequence.length - 1] !== "db");
      }),
      { numRuns: 50 },
    );
  });
});
