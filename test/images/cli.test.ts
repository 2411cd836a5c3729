import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const cli = (...args: string[]) => run("node", ["bin/wsparity.js", ...args], { encoding: "utf8" });

describe("wsparity images (CLI)", () => {
  it("prints the image map as JSON, one row per rule", async () => {
    const { stdout } = await cli("images", "map", "--json", "--arch", "arm64");
    const rows = JSON.parse(stdout) as { pattern: string; images: string[] }[];
    expect(rows.at(-1)).toMatchObject({ pattern: "*", images: ["wsparity/node:arm64"] });
  });

  it("resolves references given as arguments", async () => {
    const { stdout } = await cli(
      "images",
      "map",
      "registry.example.com/ubi9/nodejs-18",
      "--arch",
      "amd64,arm64",
    );
    expect(stdout).toMatch(/registry\.example\.com\/ubi9\/nodejs-18 \| amd64 \| wsparity\/node:amd64/);
    expect(stdout).toMatch(/\| arm64 \| wsparity\/node:arm64/);
  });

  it("exits 2 on an unknown architecture", async () => {
    await expect(cli("images", "build", "--arch", "riscv64")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--arch riscv64: choose from amd64, arm64/),
    });
  });
});
