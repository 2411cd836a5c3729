import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** ../shared beside the clone (GitLab facts, registry devfiles), or WSPARITY_SHARED_DIR. */
export const SHARED_DIR =
  process.env.WSPARITY_SHARED_DIR ?? fileURLToPath(new URL("../../../shared/", import.meta.url));

/** A folder under ../shared, or undefined when this machine has none (tests then skip, saying so). */
export function sharedPath(relative: string): string | undefined {
  const path = `${SHARED_DIR.replace(/\/$/, "")}/${relative}`;
  return existsSync(path) ? path : undefined;
}
