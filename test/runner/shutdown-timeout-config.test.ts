// config.toml's global shutdown_timeout (gitlab-runner's: seconds a forceful shutdown may take, default 30).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadRunnerConfig, RunnerConfigError } from "../../src/runner/config.ts";

const dir = mkdtempSync(join(tmpdir(), "wsparity-shutdown-timeout-"));
const file = join(dir, "config.toml");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(global: string) {
  writeFileSync(
    file,
    `${global}\n[[runners]]\n  name = "r"\n  url = "http://gitlab"\n  token = "glrt-x"\n  executor = "shell"\n  builds_dir = "/b"\n  cache_dir = "/c"\n`,
  );
  return loadRunnerConfig(file, {});
}

describe("shutdown_timeout", () => {
  it("is 30 s unless set, and 30 s for 0 or less, as in gitlab-runner", () => {
    expect(load("").shutdownTimeoutSeconds).toBe(30);
    expect(load("shutdown_timeout = 0").shutdownTimeoutSeconds).toBe(30);
    expect(load("shutdown_timeout = -5").shutdownTimeoutSeconds).toBe(30);
  });

  it("takes any positive number of seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400 }), (seconds) => {
        expect(load(`shutdown_timeout = ${seconds}`).shutdownTimeoutSeconds).toBe(seconds);
      }),
      { numRuns: 30 },
    );
  });

  it("refuses a value that is not a number, naming the file and the key", () => {
    expect(() => load('shutdown_timeout = "30s"')).toThrow(RunnerConfigError);
    expect(() => load('shutdown_timeout = "30s"')).toThrow(
      `${file}: shutdown_timeout must be a number of seconds, got "30s"`,
    );
  });
});
