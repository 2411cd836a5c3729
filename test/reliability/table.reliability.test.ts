import { describe, expect, it } from "vitest";
import { renderTable } from "./table.ts";

describe("reliability table", () => {
  it("lines up every row under its header and marks rows outside their bound", () => {
    const text = renderTable([
      { check: "a", did: "one thing", figure: "0 crashes", ok: true },
      { check: "longer check", did: "x", figure: "3 leaked fds", ok: false },
    ]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(4);
    expect(new Set([lines[0], lines[2], lines[3]].map((l) => l!.indexOf("│"))).size).toBe(1);
    expect(lines[1]!.indexOf("┼")).toBe(lines[0]!.indexOf("│"));
    expect(lines[3]).toMatch(/FAILED$/);
    expect(lines[2]).toMatch(/ok$/);
  });
});
