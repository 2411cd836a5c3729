// Registering the live tier's runner containers with the tokens GitLab gave the created runners: gitlab-runner's
// `register --non-interactive --token glrt-…` verifies the token (POST /runners/verify) and writes a [[runners]]
// entry merged from runners/live/<executor>.toml (--template-config). A runner created with POST /user/runners
// carries its tags and run_untagged on the server, so register takes none of those flags.
import { parse } from "smol-toml";
import { UsageError } from "../util/errors.ts";
import type { ComposeClient } from "./compose-client.ts";
import type { ComposeUpPlan } from "./compose-plan.ts";
import type { Executor, RunnerCredentials } from "./profile-hooks.ts";

export const RUNNER_CONFIG = "/etc/gitlab-runner/config.toml";
export const RUNNER_TEMPLATES = "/etc/wsparity-runners";
/** The docker executor's default image, which register requires on the command line in non-interactive mode. */
const DOCKER_DEFAULT_IMAGE = "wsparity/base:amd64";

export function runnerService(executor: Executor): string {
  return `runner-${executor}`;
}

export function registerArgv(executor: Executor, gitlabUrl: string, token: string): string[] {
  return [
    "gitlab-runner",
    "register",
    "--non-interactive",
    "--url",
    gitlabUrl,
    "--token",
    token,
    "--executor",
    executor,
    // register asks for a name even with an authentication token; without --name it takes the container's hostname.
    "--name",
    `wsparity-${executor}`,
    "--template-config",
    `${RUNNER_TEMPLATES}/${executor}.toml`,
    ...(executor === "docker" ? ["--docker-image", DOCKER_DEFAULT_IMAGE] : []),
  ];
}

/** Whether config.toml already holds a [[runners]] entry with this token (register would add a second one). */
export function hasRunnerToken(configToml: string, token: string): boolean {
  if (!configToml.trim()) return false;
  const config = parse(configToml) as { runners?: { token?: string }[] };
  return (config.runners ?? []).some((r) => r.token === token);
}

type Plan = Pick<ComposeUpPlan, "file" | "projectName" | "env">;

/**
 * Registers the runner in its container unless its config already has the token, then runs gitlab-runner verify.
 * Returns what it did, for the step's note.
 */
export async function registerRunner(
  compose: ComposeClient,
  plan: Plan,
  executor: Executor,
  runner: RunnerCredentials,
  gitlabUrl: string,
): Promise<"registered" | "already registered"> {
  const service = runnerService(executor);
  const current = await compose.exec(plan, service, ["cat", RUNNER_CONFIG]);
  // A missing config.toml (cat fails) is a runner container that has never been registered.
  let registered = false;
  try {
    registered = current.status === 0 && hasRunnerToken(current.stdout, runner.token);
  } catch (err) {
    throw new UsageError(
      `${service}:${RUNNER_CONFIG} is not valid TOML (${(err as Error).message.split("\n")[0]}): fix or remove it, then run live up again`,
    );
  }
  if (!registered) {
    const r = await compose.exec(plan, service, registerArgv(executor, gitlabUrl, runner.token));
    if (r.status !== 0)
      throw new UsageError(
        `gitlab-runner register in ${service} failed (exit ${r.status}) for runner ${runner.id}:\n${(r.stderr || r.stdout).trim()}`,
      );
  }
  const verify = await compose.exec(plan, service, ["gitlab-runner", "verify"]);
  if (verify.status !== 0)
    throw new UsageError(
      `gitlab-runner verify in ${service} failed (exit ${verify.status}):\n${(verify.stderr || verify.stdout).trim()}`,
    );
  return registered ? "already registered" : "registered";
}
