// The runner's local cache (gitlab-runner's cache_dir without a shared cache server): one tar.gz per
// project and key, restored before the script and archived after it according to cache:when.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { promisify } from "node:util";
import type { JobCache, JobPayload } from "./api-client.ts";

const run = promisify(execFile);

function archivePath(cacheDir: string, job: JobPayload, cache: JobCache): string {
  if (cache.key.includes("/") || cache.key === "." || cache.key === "..") {
    throw new Error(`cache key ${JSON.stringify(cache.key)} must not contain / or be . or ..`);
  }
  return join(cacheDir, String(job.job_info.project_id), cache.key, "cache.tar.gz");
}

/** Paths inside the project dir only, as GitLab requires. */
function safePaths(paths: string[]): string[] {
  return paths
    .map((p) => normalize(p).replace(/\/+$/, ""))
    .filter((p) => p !== "" && p !== "." && !p.startsWith("..") && !p.startsWith("/"));
}

/** Every path the job's caches would archive, relative to the project folder. */
export function cachePaths(job: JobPayload): string[] {
  return [
    ...new Set((job.cache ?? []).filter((c) => c.policy !== "pull").flatMap((c) => safePaths(c.paths))),
  ];
}

export async function restoreCaches(
  cacheDir: string,
  job: JobPayload,
  projectDir: string,
  log: (line: string) => void,
): Promise<void> {
  for (const cache of job.cache ?? []) {
    if (cache.policy === "push") continue;
    const archive = archivePath(cacheDir, job, cache);
    if (!existsSync(archive)) {
      log(`No cache found for ${cache.key}`);
      continue;
    }
    mkdirSync(projectDir, { recursive: true });
    await run("tar", ["-xzf", archive, "-C", projectDir]);
    log(`Successfully extracted cache ${cache.key}`);
  }
}

export async function archiveCaches(
  cacheDir: string,
  job: JobPayload,
  projectDir: string,
  jobSucceeded: boolean,
  log: (line: string) => void,
): Promise<void> {
  for (const cache of job.cache ?? []) {
    if (cache.policy === "pull") continue;
    const wanted = cache.when === "always" || (cache.when === "on_failure" ? !jobSucceeded : jobSucceeded);
    if (!wanted) continue;
    const present = safePaths(cache.paths).filter((p) => existsSync(join(projectDir, p)));
    if (present.length === 0) {
      log(`No paths to cache for ${cache.key}`);
      continue;
    }
    const archive = archivePath(cacheDir, job, cache);
    mkdirSync(dirname(archive), { recursive: true });
    const partial = `${archive}.partial`;
    await run("tar", ["-czf", partial, "-C", projectDir, "--", ...present]);
    renameSync(partial, archive);
    log(`Created cache ${cache.key} (${present.join(", ")})`);
  }
}
