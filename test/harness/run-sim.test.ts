import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reportSchemaErrors } from "../../src/report/validate.ts";

const out = mkdtempSync(join(tmpdir(), "wsparity-run-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Processes whose command line mentions `needle` (the run's own folder): what a run must not leave behind. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(needle) && Number(pid) !== process.pid)
        found.push(`${pid}: ${cmdline.slice(0, 120)}`);
    } catch {}
  }
  return found;
}

describe("wsparity run on the sim tier (through the CLI)", () => {
  it("runs a scenario through both paths, writes the four reports and leaves nothing running", () => {
    const dir = join(out, "full");
    const r = spawnSync(
      process.execPath,
      ["bin/wsparity.js", "run", "scenarios/minimal.yaml", "--tier", "sim", "--out", dir],
      {
        encoding: "utf8",
        timeout: 240_000,
      },
    );
    expect(r.stderr).toContain("[2/3] minimal ci shell/amd64");
    expect(r.stderr).toContain("[3/3] minimal ci kubernetes/amd64");
    expect(r.status).toBe(0);
    expect(
      readdirSync(dir)
        .filter((f) => !f.startsWith("."))
        .sort(),
    ).toEqual(["junit.xml", "report.html", "report.json", "report.md"]);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.tier).toBe("sim");
    const [k8s, ci, ciPod] = report.cells;
    expect([k8s.path, ci.path, ci.executor, ciPod.executor]).toEqual([
      "kubernetes",
      "ci",
      "shell",
      "kubernetes",
    ]);
    const status = (cell: { features: { id: string; status: string }[] }, id: string) =>
      cell.features.find((f) => f.id === id)?.status;
    // Both paths reach the editor through the same kind of URL; CI jobs run as root, GitLab's pods as 5001.
    for (const cell of [k8s, ci, ciPod]) {
      expect(cell.status).toBe("passed");
      expect(status(cell, "editor.injected")).toBe("supported");
      expect(status(cell, "endpoint.websocket")).toBe("supported");
      expect(status(cell, "workspace.stop")).toBe("supported");
    }
    expect(status(k8s, "container.user")).toBe("supported");
    expect(status(ci, "container.user")).toBe("unsupported");
    expect(status(ciPod, "container.user")).toBe("unsupported");
    expect(report.gaps.some((g: { feature: string }) => g.feature === "container.user")).toBe(true);
    expect(ci.tunnel.baseline.latencyUs.count).toBe(300);
    expect(r.stdout).toContain("# wsparity gap report — tier `sim`");
    expect(processesMentioning(dir)).toEqual([]);
  }, 300_000);

  it("on Ctrl-C stops the workspace, writes what finished and exits 130", async () => {
    const dir = join(out, "interrupted");
    const child = spawn(
      process.execPath,
      ["bin/wsparity.js", "run", "scenarios/minimal.yaml", "--tier", "sim", "--out", dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (/editor\.injected/.test(stderr)) resolve();
      });
      child.on("exit", () => resolve());
    });
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("SIGINT: finishing the current step");
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.cells.map((c: { status: string }) => c.status)).toEqual(["error", "skipped", "skipped"]);
    expect(report.cells[0].reason).toMatch(/interrupted: the run was stopped before this cell finished/);
    expect(report.cells[1].reason).toBe("interrupted before this cell started");
    expect(existsSync(join(dir, "junit.xml"))).toBe(true);
    expect(processesMentioning(dir)).toEqual([]);
  }, 300_000);

  it("rejects bad flags with exit 2 before starting anything", () => {
    const r = spawnSync(process.execPath, ["bin/wsparity.js", "run", "--tier", "moon"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--tier must be sim, docker or live");
  });
});
