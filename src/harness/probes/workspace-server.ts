import type { WorkspaceHandle } from "../workspace.ts";
import { describeExec, execInWorkspace } from "./editor-client.ts";

// A one-file HTTP server the probes start inside the main container, as a user starts their app.
// It answers every request with its token and exits by itself after ttl seconds, so nothing leaks.
const SERVER_SCRIPT = `
const [port, token, ttl] = process.argv.slice(1);
const server = require("http").createServer((req, res) => { res.setHeader("x-wsparity-token", token); res.end(token + " " + req.url); });
server.listen(Number(port), "0.0.0.0");
setTimeout(() => process.exit(0), Number(ttl) * 1000).unref();
`;

export interface WorkspaceServer {
  port: number;
  token: string;
  evidence: string;
  stop(): Promise<void>;
}

/** Starts a tiny HTTP server on `port` in the main container; resolves once it answers on localhost. */
export async function startWorkspaceServer(
  ws: WorkspaceHandle,
  port: number,
  ttlSeconds = 60,
): Promise<WorkspaceServer> {
  const token = `wsparity-${Math.random().toString(36).slice(2, 10)}`;
  const script = SERVER_SCRIPT.replace(/\n/g, " ").replace(/'/g, `'"'"'`);
  const start = `"$WSPARITY_NODE" -e '${script}' ${port} ${token} ${ttlSeconds} >/dev/null 2>&1 & echo $!`;
  const started = await execInWorkspace(ws, start);
  const pid = Number(started.stdout.trim());
  if (started.exitCode !== 0 || !Number.isInteger(pid)) {
    throw new Error(
      `could not start a server on port ${port} in the workspace: ${describeExec("start server", started)}`,
    );
  }
  const check = `for i in $(seq 1 50); do "$WSPARITY_NODE" -e 'require("http").get("http://127.0.0.1:${port}/", r => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' && exit 0; sleep 0.1; done; exit 1`;
  const ready = await execInWorkspace(ws, check, { timeoutMs: 15_000 });
  if (ready.exitCode !== 0)
    throw new Error(`the server on port ${port} did not answer on the workspace's localhost`);
  return {
    port,
    token,
    evidence: `started a server on :${port} in the main container (pid ${pid})`,
    stop: async () => {
      await execInWorkspace(ws, ["kill", String(pid)]).catch(() => undefined);
    },
  };
}

/** Whether something in the main container accepts TCP on 127.0.0.1:port within `waitSeconds`. */
export async function listensInWorkspace(
  ws: WorkspaceHandle,
  port: number,
  waitSeconds = 5,
): Promise<boolean> {
  const probe = `"$WSPARITY_NODE" -e 'const s = require("net").connect(${port}, "127.0.0.1", () => process.exit(0)); s.on("error", () => process.exit(1))'`;
  const tries = Math.max(1, waitSeconds * 4);
  const out = await execInWorkspace(
    ws,
    `for i in $(seq 1 ${tries}); do ${probe} && exit 0; sleep 0.25; done; exit 1`,
    {
      timeoutMs: (waitSeconds + 10) * 1000,
    },
  );
  return out.exitCode === 0;
}
