// Entry point of the bundled agent (dist/wsparity-agent.mjs), run by a plain `node` inside a CI job or container.
import { parseArgs } from "node:util";
import { AGENT_HELP, AgentConfigError } from "./config.ts";
import { runAgent } from "./run.ts";

try {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      workspace: { type: "string" },
      "token-file": { type: "string" },
      ports: { type: "string" },
      ca: { type: "string" },
      insecure: { type: "boolean" },
      "target-host": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`Usage: node wsparity-agent.mjs [options]\n\n${AGENT_HELP}\n`);
    process.exit(0);
  }
  await runAgent({
    server: values.server,
    workspace: values.workspace,
    tokenFile: values["token-file"],
    ports: values.ports,
    ca: values.ca,
    insecure: values.insecure,
    targetHost: values["target-host"],
  });
} catch (err) {
  process.stderr.write(`wsparity-agent: ${(err as Error).message}\n`);
  process.exit(
    err instanceof AgentConfigError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1,
  );
}
