// The bash text for each build stage, as gitlab-runner writes it: strict mode, each user line echoed
// before it runs, sources fetched with git from the job's repo_url. Values from GitLab reach bash only
// through the environment or as quoted words.

import { shellQuote } from "../ci/shell-quote.ts";
import type { JobPayload } from "./api-client.ts";

const PRELUDE = ["set -eo pipefail", "set +o noclobber"];

export function userScript(lines: string[], projectDir: string): string {
  const out = [...PRELUDE, `cd ${shellQuote(projectDir)}`];
  for (const line of lines) {
    const [first = "", ...rest] = line.split("\n");
    const shown = rest.length > 0 ? `${first} # collapsed multi-line command` : first;
    out.push(`printf '\\033[32;1m$ %s\\033[0;m\\n' ${shellQuote(shown)}`, line);
  }
  return `${out.join("\n")}\n`;
}

/** Fetches the job's commit into the project dir (GIT_STRATEGY fetch/clone; none skips). */
export function getSourcesScript(
  job: JobPayload,
  projectDir: string,
  env: Record<string, string>,
): string | undefined {
  const strategy = env.GIT_STRATEGY ?? "fetch";
  if (strategy === "none" || strategy === "empty") return undefined;
  const sha = job.git_info.sha;
  if (!/^[0-9a-f]{40,64}$/.test(sha))
    throw new Error(`git_info.sha ${JSON.stringify(sha)} is not a commit id`);
  const depth = Number(env.GIT_DEPTH ?? job.git_info.depth ?? 0);
  const refspecs = (job.git_info.refspecs ?? []).map(shellQuote).join(" ");
  return `${[
    ...PRELUDE,
    `echo ${shellQuote(`Fetching changes with git depth set to ${depth || "none"}...`)}`,
    `mkdir -p ${shellQuote(projectDir)}`,
    `cd ${shellQuote(projectDir)}`,
    "git init -q",
    'git remote add origin "$CI_REPOSITORY_URL" 2>/dev/null || git remote set-url origin "$CI_REPOSITORY_URL"',
    `git -c http.followRedirects=false fetch -q --prune ${depth > 0 ? `--depth ${depth} ` : ""}origin ${refspecs}`,
    `echo ${shellQuote(`Checking out ${sha.slice(0, 8)} as ${job.git_info.ref}...`)}`,
    `git -c advice.detachedHead=false checkout -q -f ${sha}`,
  ].join("\n")}\n`;
}
