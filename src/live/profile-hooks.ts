// What differs between the stacks `live up` can bootstrap: how the administrator token is had, how agentk is
// installed, and how the created runners are brought up with their tokens. The bootstrap (bootstrap.ts) is the
// same for all of them; each profile (live-profile.ts: a real GitLab, gitlab-runner and k3s in compose) only
// implements these three.
import type { RunnerSelector } from "../tier/settings.ts";
import type { BootstrapOptions } from "./bootstrap.ts";

export type Executor = RunnerSelector["executor"];

/** A runner GitLab created (POST /user/runners): its id, and its authentication token (glrt-…). */
export interface RunnerCredentials {
  id: number;
  token: string;
}

export type RunnersByExecutor = Partial<Record<Executor, RunnerCredentials>>;

/** Stops what `agentk` started, when it started something that lives in this process. */
export type StopAgentk = () => Promise<void>;

export interface ProfileHooks {
  /** A personal access token with the api scope for an administrator; reused while GitLab still accepts it. */
  adminToken(): Promise<string>;
  /** Runs agentk with the agent token in `tokenFile`; the bootstrap then waits for GitLab to hear from it. */
  agentk(tokenFile: string): Promise<StopAgentk | undefined>;
  /** Brings each created runner up with its token (registers it where it runs); idempotent. */
  runnersReady(runners: RunnersByExecutor): Promise<void>;
}

/** The bootstrap's options a profile fills: its token, agentk and runner hooks. */
export function profileOptions(
  hooks: ProfileHooks,
): Required<Pick<BootstrapOptions, "token" | "agentk" | "runnersReady">> {
  return {
    token: () => hooks.adminToken(),
    agentk: (tokenFile) => hooks.agentk(tokenFile),
    runnersReady: (runners) => hooks.runnersReady(runners),
  };
}
