import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Absolute path of an executable on PATH (or the given absolute path), or undefined. */
export function findTool(name: string): string | undefined {
  const candidates = name.startsWith("/")
    ? [name]
    : (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/**
 * Whether a test needing `tool` may run. Outside CI a missing tool skips the test; under CI=true it
 * throws, because .ci/run installs every tool the tests need and a skip would hide a broken install.
 */
export function requireTool(tool: string, installHint: string): boolean {
  if (findTool(tool)) return true;
  if (process.env.CI) throw new Error(`${tool} is missing under CI: ${installHint}`);
  console.warn(`skipping: ${tool} not found (${installHint})`);
  return false;
}
