// Runs many workspace agents in one process for the scale measurements; prints READY <n> once all are connected.
import { WorkspaceAgent } from "../../agent/agent.ts";
import { silentLog } from "../log.ts";

interface AgentSpec {
  workspace: string;
  token: string;
}

const server = new URL(process.env.SCALE_SERVER!);
const port = Number(process.env.SCALE_PORT);
const specs = JSON.parse(process.env.SCALE_AGENTS!) as AgentSpec[];
const agents = specs.map(
  (spec) =>
    new WorkspaceAgent({
      server,
      workspace: spec.workspace,
      token: spec.token,
      ports: [port],
      targetHost: "127.0.0.1",
      backoff: { initialMs: 100, maxMs: 2000 },
      connectTimeoutMs: 30_000,
      log: silentLog,
    }),
);
let connected = 0;
await Promise.all(
  agents.map(
    (agent) =>
      new Promise<void>((resolve) => {
        agent.once("connected", () => {
          connected++;
          resolve();
        });
        agent.start();
      }),
  ),
);
process.stdout.write(`READY ${connected}\n`);
const stop = () => void Promise.all(agents.map((a) => a.stop())).then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
