import { existsSync } from "node:fs";

/**
 * Whether a test that needs an external tool runs. Outside CI a missing tool skips the test; under CI=true it
 * does not skip, so the test fails and says what to install.
 */
export function needs(...paths: string[]): { skip: boolean; missing: string[] } {
  const missing = paths.filter((p) => !existsSync(p));
  return { skip: missing.length > 0 && !process.env.CI, missing };
}
