import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMemorySize } from "../../src/containers/index.ts";

describe("parseMemorySize", () => {
  it("reads Docker and Kubernetes units as powers of 1024", () => {
    const factors = {
      "": 1,
      b: 1,
      k: 1024,
      m: 1024 ** 2,
      g: 1024 ** 3,
      Ki: 1024,
      Mi: 1024 ** 2,
      Gi: 1024 ** 3,
    };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(...Object.keys(factors)), (n, unit) => {
        expect(parseMemorySize(`${n}${unit}`)).toBe(n * factors[unit as keyof typeof factors]);
      }),
    );
    expect(parseMemorySize("1.5Gi")).toBe(1.5 * 1024 ** 3);
    expect(parseMemorySize(4096)).toBe(4096);
  });

  it("refuses what it cannot read, naming the value", () => {
    for (const bad of ["", "m", "12x", "-5m", "0", "1.5.2g"]) {
      expect(() => parseMemorySize(bad)).toThrow(/memory size/);
    }
    expect(() => parseMemorySize(-1)).toThrow(/positive/);
  });
});
