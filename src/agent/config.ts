import { readFileSync } from "node:fs";
import { lineLog } from "../tunnel/log.ts";
import { isPort } from "../tunnel/protocol.ts";
import type { AgentOptions } from "./agent.ts";

/** Flags of `wsparity agent` and of the bundled dist/wsparity-agent.mjs; each has an environment variable. */
export interface AgentFlags {
  server?: string;
  workspace?: string;
  token?: string;
  tokenFile?: string;
  ports?: string;
  ca?: string;
  insecure?: boolean;
  targetHost?: string;
}

export const AGENT_ENV = {
  server: "WSPARITY_TUNNEL_URL",
  workspace: "WSPARITY_WORKSPACE",
  token: "WSPARITY_TOKEN",
  tokenFile: "WSPARITY_TOKEN_FILE",
  ports: "WSPARITY_PORTS",
  ca: "WSPARITY_TUNNEL_CA",
  insecure: "WSPARITY_TUNNEL_INSECURE",
  targetHost: "WSPARITY_TARGET_HOST",
} as const;

export const AGENT_HELP = `Options (each falls back to an environment variable):
  --server URL        ${AGENT_ENV.server}   tunnel server: tcp://H:P, tls://H:P, ws://H:P/-/agent, wss://H:P/-/agent or unix:///PATH
  --workspace ID      ${AGENT_ENV.workspace}    workspace this agent serves
  --token-file FILE   ${AGENT_ENV.tokenFile}   file holding the agent token (or the token itself in ${AGENT_ENV.token})
  --ports LIST        ${AGENT_ENV.ports}        comma list of declared ports, the only ones forwarded (127.0.0.1);
                      PORT=LOCAL: declared PORT listens at LOCAL (a shell job's editor on a free port)
  --ca FILE           ${AGENT_ENV.ca}   PEM CA bundle that signed the server certificate (tls:// and wss://)
  --insecure          ${AGENT_ENV.insecure}=1  accept any server certificate (throwaway test setups only)
  --target-host HOST  ${AGENT_ENV.targetHost}  where declared ports listen (default 127.0.0.1)`;

/** Thrown for missing or bad settings; the message says which flag or variable to fix. */
export class AgentConfigError extends Error {
  override name = "AgentConfigError";
}

export function resolveAgentOptions(flags: AgentFlags, env: NodeJS.ProcessEnv): AgentOptions {
  const pick = (key: keyof typeof AGENT_ENV) => {
    const value = flags[key] ?? env[AGENT_ENV[key]];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const serverText = pick("server");
  if (!serverText)
    throw new AgentConfigError(`no tunnel server: pass --server URL or set ${AGENT_ENV.server}`);
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    throw new AgentConfigError(`--server / ${AGENT_ENV.server}: ${JSON.stringify(serverText)} is not a URL`);
  }
  if (!["tcp:", "tls:", "ws:", "wss:", "unix:"].includes(server.protocol)) {
    throw new AgentConfigError(
      `--server / ${AGENT_ENV.server}: ${serverText} must start with tcp://, tls://, ws://, wss:// or unix://`,
    );
  }
  const workspace = pick("workspace");
  if (!workspace)
    throw new AgentConfigError(`no workspace: pass --workspace ID or set ${AGENT_ENV.workspace}`);
  const tokenFile = pick("tokenFile");
  let token = flags.tokenFile ? undefined : env[AGENT_ENV.token];
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      throw new AgentConfigError(
        `--token-file / ${AGENT_ENV.tokenFile}: cannot read ${tokenFile}: ${(err as Error).message}`,
      );
    }
  }
  if (!token)
    throw new AgentConfigError(
      `no agent token: pass --token-file FILE or set ${AGENT_ENV.tokenFile} or ${AGENT_ENV.token}`,
    );
  const portsText = pick("ports");
  if (!portsText)
    throw new AgentConfigError(`no declared ports: pass --ports 8080,60022 or set ${AGENT_ENV.ports}`);
  const entries = portsText.split(",").map((entry) => entry.trim().split("="));
  const bad = entries.find((words) => words.length > 2 || !words.every((w) => isPort(Number(w))));
  if (bad !== undefined) {
    throw new AgentConfigError(
      `--ports / ${AGENT_ENV.ports}: ${JSON.stringify(bad.join("="))} is not a port (1-65535) or PORT=LOCAL`,
    );
  }
  const ports = entries.map((words) => Number(words[0]));
  const listensAt = new Map(
    entries.filter((words) => words.length === 2).map((words) => [Number(words[0]), Number(words[1])]),
  );
  const caFile = pick("ca");
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw new AgentConfigError(`--ca / ${AGENT_ENV.ca}: cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  const insecureEnv = env[AGENT_ENV.insecure];
  return {
    server,
    workspace,
    token,
    ports,
    ...(listensAt.size ? { listensAt } : {}),
    targetHost: pick("targetHost") ?? "127.0.0.1",
    ca,
    insecure: flags.insecure === true || insecureEnv === "1" || insecureEnv === "true",
    backoff: { initialMs: 250, maxMs: 30_000 },
    connectTimeoutMs: 10_000,
    log: lineLog("wsparity-agent"),
  };
}
