import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonMergePatch, strategicMergePatch } from "../../src/sim/kubernetes/patch.ts";
import { parseFieldSelector, parseLabelSelector } from "../../src/sim/kubernetes/selectors.ts";

const json = fc.jsonValue({ maxDepth: 3 });
const objectOf = fc.dictionary(fc.string({ maxLength: 4 }), json, { maxKeys: 4 });
const obj = (labels: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", labels },
});
const key = fc.stringMatching(/^[a-z][a-z0-9./-]{0,8}[a-z0-9]$/);
const value = fc.stringMatching(/^[a-z0-9]{0,6}$/);

describe("JSON merge patch (RFC 7386)", () => {
  it("is idempotent and an empty patch changes nothing", () => {
    fc.assert(
      fc.property(objectOf, objectOf, (target, patch) => {
        const once = jsonMergePatch(target, patch);
        expect(jsonMergePatch(once, patch)).toEqual(once);
        expect(jsonMergePatch(target, {})).toEqual(target);
      }),
    );
  });

  it("null removes a field and values replace", () => {
    expect(jsonMergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: null, b: { c: 5 } })).toEqual({
      b: { c: 5, d: 3 },
    });
  });
});

describe("strategic merge patch", () => {
  it("merges keyed lists by key and honours $patch: delete", () => {
    const live = { containers: [{ name: "a", image: "x", env: [{ name: "A", value: "1" }] }, { name: "b" }] };
    const patch = {
      containers: [
        { name: "a", env: [{ name: "B", value: "2" }] },
        { name: "b", $patch: "delete" },
      ],
    };
    expect(strategicMergePatch(live, patch)).toEqual({
      containers: [
        {
          name: "a",
          image: "x",
          env: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
        },
      ],
    });
  });
});

describe("label and field selectors", () => {
  it("k=v, k!=v, k, !k and set forms agree with the labels", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), key, value, (labels, k, v) => {
        const o = obj(labels);
        const has = Object.hasOwn(labels, k);
        expect(parseLabelSelector(`${k}=${v}`)(o)).toBe(has && labels[k] === v);
        expect(parseLabelSelector(`${k}!=${v}`)(o)).toBe(!has || labels[k] !== v);
        expect(parseLabelSelector(k)(o)).toBe(has);
        expect(parseLabelSelector(`!${k}`)(o)).toBe(!has);
        expect(parseLabelSelector(`${k} in (${v},zz)`)(o)).toBe(has && [v, "zz"].includes(labels[k]!));
        expect(parseLabelSelector(`${k} notin (${v})`)(o)).toBe(!has || labels[k] !== v);
      }),
    );
  });

  it("rejects what it cannot parse, and field selectors read nested fields", () => {
    expect(() => parseLabelSelector("a=(")).toThrow(/unable to parse/);
    const pod = { ...obj({}), status: { phase: "Running" } };
    expect(parseFieldSelector("status.phase=Running,metadata.name=p")(pod)).toBe(true);
    expect(parseFieldSelector("status.phase!=Running")(pod)).toBe(false);
  });
});
