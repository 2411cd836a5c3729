import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import { AGENT_HELP, AgentConfigError, type AgentFlags } from "./config.ts";
import { runAgent } from "./run.ts";

export function registerAgentCommands(program: Command): void {
  program
    .command("agent")
    .description(
      "Run the workspace agent: dial the tunnel server and forward its streams to declared ports on 127.0.0.1.",
    )
    .option("--server <url>", "tunnel server URL")
    .option("--workspace <id>", "workspace this agent serves")
    .option("--token-file <file>", "file holding the agent token")
    .option("--ports <list>", "comma list of declared ports")
    .option("--ca <file>", "PEM CA bundle for tls:// and wss://")
    .option("--insecure", "accept any server certificate (tests only)")
    .option("--target-host <host>", "where declared ports listen")
    .addHelpText(
      "after",
      `\n${AGENT_HELP}\n\nLogs one line per event to stderr; reconnects with exponential backoff and jitter.`,
    )
    .action(async (flags: AgentFlags) => {
      try {
        await runAgent(flags);
      } catch (err) {
        if (err instanceof AgentConfigError) throw new UsageError(err.message);
        throw err;
      }
    });
}
