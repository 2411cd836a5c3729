// Job artifacts as gitlab-runner handles them (commands/helpers/artifacts_*.go, network/gitlab.go):
// before the script, each dependency's archive is downloaded (GET /jobs/:id/artifacts with this job's
// token) and unpacked into the project folder; after it, each artifact whose `when` matches the job's
// outcome is collected (paths and globs, minus exclude) and uploaded: the archive as a zip, reports as
// gzip (POST /jobs/:id/artifacts, multipart `file`, artifact_type, artifact_format, expire_in).

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { unzipSync, zipSync } from "fflate";
import picomatch from "picomatch";
import type { JobApiClient, JobArtifactSpec, JobPayload } from "./api-client.ts";

type Log = (line: string) => void;

/** A path of the archive that stays inside the project folder, or undefined. */
function safeEntry(name: string): string | undefined {
  const clean = normalize(name).replace(/^(\.\/)+/, "");
  if (clean === "" || clean.startsWith("..") || clean.startsWith("/") || clean.includes(`${sep}..${sep}`))
    return undefined;
  return clean;
}

export async function downloadDependencies(
  client: JobApiClient,
  job: JobPayload,
  projectDir: string,
  log: Log,
) {
  for (const dependency of job.dependencies ?? []) {
    if (!dependency.artifacts_file) continue;
    log(`Downloading artifacts for ${dependency.name} (${dependency.id})...`);
    const archive = await client.downloadArtifacts(dependency.id, dependency.token ?? job.token);
    if (!archive)
      throw new Error(`artifacts of ${dependency.name} (${dependency.id}) could not be downloaded`);
    const files = unzipSync(new Uint8Array(archive));
    let count = 0;
    for (const [name, data] of Object.entries(files)) {
      const entry = safeEntry(name);
      if (!entry || name.endsWith("/")) continue;
      const target = join(projectDir, entry);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data);
      count++;
    }
    log(`Downloading artifacts from coordinator... ok        id=${dependency.id} files=${count}`);
  }
}

function walk(dir: string, base: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (dir === base && name === ".git") continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) walk(path, base, out);
    else if (stat?.isFile()) out.push(relative(base, path).split(sep).join("/"));
  }
}

/** The files an artifact's paths select: a directory path takes all under it, globs as doublestar. */
export function artifactFiles(projectDir: string, paths: string[], exclude: string[]): string[] {
  const all: string[] = [];
  walk(projectDir, projectDir, all);
  const patterns = paths.flatMap((p) => {
    const clean = p.replace(/^\.\//, "").replace(/\/+$/, "");
    return [clean, `${clean}/**`];
  });
  const include = picomatch(patterns, { dot: true });
  const skip =
    exclude.length > 0
      ? picomatch(
          exclude.map((p) => p.replace(/^\.\//, "")),
          { dot: true },
        )
      : () => false;
  return all.filter((f) => include(f) && !skip(f));
}

/** The literal folders before any wildcard, for executors that must copy them out of the job first. */
export function artifactRoots(job: JobPayload): string[] {
  return [
    ...new Set(
      (job.artifacts ?? []).flatMap((a) =>
        a.paths.map((p) =>
          p
            .replace(/^\.\//, "")
            .split("/")
            .filter((part, i, parts) => !/[*?[{]/.test(parts.slice(0, i + 1).join("/")))
            .join("/"),
        ),
      ),
    ),
  ].filter((p) => p !== "" && !p.startsWith(".."));
}

function wanted(spec: JobArtifactSpec, succeeded: boolean): boolean {
  const when = spec.when ?? "on_success";
  return when === "always" || (when === "on_success") === succeeded;
}

export async function uploadArtifacts(
  client: JobApiClient,
  job: JobPayload,
  projectDir: string,
  succeeded: boolean,
  log: Log,
): Promise<void> {
  for (const spec of job.artifacts ?? []) {
    if (!wanted(spec, succeeded)) continue;
    log(`Uploading artifacts for ${succeeded ? "successful" : "failed"} job`);
    if (spec.untracked)
      log("WARNING: artifacts:untracked is not collected by this runner; list the paths instead");
    const files = artifactFiles(projectDir, spec.paths, spec.exclude ?? []);
    for (const path of spec.paths)
      log(
        `${path}: found ${files.filter((f) => f === path || f.startsWith(`${path.replace(/\/+$/, "")}/`) || picomatch(path)(f)).length} matching artifact files and directories`,
      );
    if (files.length === 0) {
      log("WARNING: No files to upload");
      continue;
    }
    const type = spec.artifact_type ?? "archive";
    const format = spec.artifact_format ?? "zip";
    let body: Buffer;
    let filename: string;
    if (format === "zip") {
      body = Buffer.from(
        zipSync(Object.fromEntries(files.map((f) => [f, new Uint8Array(readFileSync(join(projectDir, f)))]))),
      );
      filename = `${spec.name && spec.name !== "archive" ? spec.name : "artifacts"}.zip`;
    } else {
      body = Buffer.concat(files.map((f) => gzipSync(readFileSync(join(projectDir, f)))));
      filename = `${type}.gz`;
    }
    const status = await client.uploadArtifact(job, body, filename, {
      artifact_type: type,
      artifact_format: format,
      ...(spec.expire_in ? { expire_in: spec.expire_in } : {}),
    });
    log(
      `Uploading artifacts as "${type}" to coordinator... ${status === 201 ? "201 Created" : `${status}`}  id=${job.id}`,
    );
    if (status !== 201) throw new Error(`the artifacts upload answered ${status}`);
  }
}
