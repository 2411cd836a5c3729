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
 * Why a test needing `tool` cannot run here, or undefined when it can; pass it to `ctx.skip(reason)` or
 * describeUnless. Under CI=true a missing tool throws instead, because .ci/run installs every tool the
 * tests need and a skip would hide a broken install.
 */
export function missingTool(tool: string, installHint: string): string | undefined {
  if (findTool(tool)) return undefined;
  if (process.env.CI) throw new Error(`${tool} is missing under CI: ${installHint}`);
  return `${tool} not found: ${installHint}`;
}
