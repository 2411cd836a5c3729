import { WorkspaceAgent } from "./agent.ts";
import { type AgentFlags, resolveAgentOptions } from "./config.ts";

/**
 * Runs an agent until SIGINT/SIGTERM or until the tunnel server asks it to stop (`POST /-/stop`); resolves
 * when it has closed its connections, so the process ends with exit code 0.
 */
export function runAgent(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const agent = new WorkspaceAgent(resolveAgentOptions(flags, env)).start();
  return new Promise((resolve) => {
    const stop = () => {
      release();
      void agent.stop().then(resolve);
    };
    const stopped = () => {
      release();
      resolve();
    };
    const release = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      agent.off("stop-requested", stopped);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    agent.once("stop-requested", stopped);
  });
}
