// A cell that cannot start because of its environment (no licence, the agent not connected or not mapped, no
// runner with the tags) says nothing about either path: its status is `environment`, never a gap.

export class EnvironmentError extends Error {}

/** GitLab's words for what its environment lacks, as its GraphQL API gives them on workspaceCreate. */
const GITLAB_ENVIRONMENT_ERRORS = [
  /licensed feature is not available/i,
  /must be mapped to an ancestor namespace/i,
  /agent.*(not found|does not exist|not available)/i,
  // Rails stores an agent's workspaces config when the agent connects and sends it: no config, no agentk.
  /No WorkspacesAgentConfig found for agent/i,
];

/** The error as an EnvironmentError when GitLab's message names a missing piece of the environment. */
export function asEnvironmentError(err: Error): Error {
  return GITLAB_ENVIRONMENT_ERRORS.some((re) => re.test(err.message))
    ? new EnvironmentError(err.message)
    : err;
}
