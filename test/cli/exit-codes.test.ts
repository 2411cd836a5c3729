import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const run = (...args: string[]) =>
  spawnSync(process.execPath, ["bin/wsparity.js", ...args], { encoding: "utf8", timeout: 20_000 });

describe("wsparity CLI", () => {
  it("prints help and exits 0", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: wsparity");
  });

  it("exits 2 on an unknown command", () => {
    const r = run("no-such-command");
    expect(r.status).toBe(2);
  });
});
