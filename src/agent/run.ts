import { WorkspaceAgent } from "./agent.ts";
import { type AgentFlags, resolveAgentOptions } from "./config.ts";

/** Runs an agent until SIGINT/SIGTERM; resolves when it has closed its connections. */
export function runAgent(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const agent = new WorkspaceAgent(resolveAgentOptions(flags, env)).start();
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void agent.stop().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
