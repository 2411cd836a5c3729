import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the single-file bundles (agent, editor) are built: the project's dist/, or WSPARITY_DIST_DIR for a process
 * that runs the project from a read-only folder (docker-compose.yml's local containers).
 */
export function distDir(): string {
  return resolve(
    process.env.WSPARITY_DIST_DIR ?? join(fileURLToPath(new URL("../..", import.meta.url)), "dist"),
  );
}
