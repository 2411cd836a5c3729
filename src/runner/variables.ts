// Job variables as the runner applies them: later entries win, `$VAR`/`${VAR}` expand against the others
// unless the variable is raw, and file variables become files whose path is the variable's value.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JobVariable } from "./api-client.ts";

export function expandValue(value: string, lookup: (key: string) => string | undefined): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced, bare) => {
      if (whole === "$$") return "$";
      return lookup(braced ?? bare) ?? "";
    },
  );
}

/**
 * The environment for the job's processes: base (runner config `environment`) first, then job variables
 * in order, expanded; file variables are written under `fileDir`.
 */
export function jobEnvironment(
  base: Record<string, string>,
  variables: JobVariable[],
  fileDir: string,
  /** Where the job sees `fileDir` (inside its container); the same folder for the shell executor. */
  fileDirInJob: string = fileDir,
): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const variable of variables) {
    const value = variable.raw ? variable.value : expandValue(variable.value, (k) => env[k]);
    if (variable.file) {
      mkdirSync(fileDir, { recursive: true, mode: 0o700 });
      const path = join(fileDir, variable.key);
      writeFileSync(path, value, { mode: 0o600 });
      env[variable.key] = `${fileDirInJob}/${variable.key}`;
    } else env[variable.key] = value;
  }
  return env;
}
