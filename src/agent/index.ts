export { type AgentOptions, type AgentState, WorkspaceAgent } from "./agent.ts";
export { AGENT_ENV, AGENT_HELP, AgentConfigError, type AgentFlags, resolveAgentOptions } from "./config.ts";
export { runAgent } from "./run.ts";
