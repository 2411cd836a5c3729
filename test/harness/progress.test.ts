import { afterEach, describe, expect, it, vi } from "vitest";
import { expandMatrix } from "../../src/harness/matrix.ts";
import { createProgress } from "../../src/harness/progress.ts";
import { parseScenario } from "../../src/harness/scenario.ts";
import { cell } from "../report/fixtures.ts";

const planned = expandMatrix([parseScenario("name: demo\ndevfile: d.yaml\n", "/s/demo.yaml")], "sim", {
  executors: ["shell"],
});
const feature = { id: "container.env", status: "supported" as const, evidence: "ok", durationMs: 12 };

afterEach(() => vi.restoreAllMocks());

describe("progress", () => {
  it("human: a line per cell as it starts and ends, and a running probe count", () => {
    const lines: string[] = [];
    const p = createProgress("human", (l) => lines.push(l));
    p.runStarted(planned, "sim", "out");
    p.cellStarted(planned[0]!, 0, 2);
    p.probeDone(planned[0]!, feature);
    p.cellDone(cell("kubernetes", null, "amd64", { "container.env": "supported" }), 0, 2);
    expect(lines[0]).toBe("wsparity: 2 cells on the sim tier → out");
    expect(lines[1]).toBe("[1/2] demo kubernetes/amd64 … starting");
    expect(lines[2]).toMatch(/^ {4}✓ container\.env supported \(12 ms\) \[1 probes, [\d.]+ s\]$/);
    expect(lines[3]).toBe("[1/2] demo kubernetes/amd64 passed (start 1000 ms): 1 supported");
  });

  it("jsonl: one JSON event per line on stdout, for CI", () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const p = createProgress("jsonl");
    p.runStarted(planned, "sim", "out");
    p.probeDone(planned[1]!, feature);
    const events = out.map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: "run-started", cells: 2, tier: "sim" });
    expect(events[1]).toMatchObject({
      event: "probe",
      cell: "demo ci shell/amd64",
      id: "container.env",
      status: "supported",
    });
  });

  it("quiet: says nothing", () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write");
    const p = createProgress("quiet", (l) => lines.push(l));
    p.runStarted(planned, "sim", "out");
    p.note("hello");
    expect(lines).toEqual([]);
    expect(write).not.toHaveBeenCalled();
  });
});
