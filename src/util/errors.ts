/** Bad usage or unreadable input: the CLI exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A check, gate or validation that ran and failed: the CLI exits 1. */
export class CheckFailed extends Error {
  override name = "CheckFailed";
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
