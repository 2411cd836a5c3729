import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { makeThrowawayCert } from "./certs.ts";
import { ConnectRefused, openConnectTunnel } from "./connect-client.ts";
import { lineLog } from "./log.ts";
import { loadWorkspacesFile, parseListen, parsePositiveInt, readSecret } from "./serve-config.ts";
import { DEFAULT_LIMITS, type TlsMaterial, TunnelServerBuilder } from "./server.ts";

interface ServeFlags {
  domain: string;
  listen: string;
  agentListen: string;
  agentSocket?: string;
  tlsCert?: string;
  tlsKey?: string;
  agentTls: boolean;
  userTls: boolean;
  selfSigned: boolean;
  workspaces?: string;
  adminTokenFile?: string;
  maxHeaderBytes: string;
  headersTimeoutMs: string;
  keepaliveTimeoutMs: string;
  halfCloseIdleMs: string;
  helloTimeoutMs: string;
  heartbeatMs: string;
  replaceGraceMs: string;
}

interface ConnectFlags {
  url: string;
  token?: string;
  tokenFile?: string;
  domain?: string;
  ca?: string;
  insecure?: boolean;
}

const envOption = (flags: string, description: string, env: string, fallback?: string) => {
  const option = new Option(flags, description).env(env);
  return fallback === undefined ? option : option.default(fallback);
};

export function registerTunnelCommands(program: Command): void {
  const tunnel = program
    .command("tunnel")
    .description("The reverse tunnel that reaches ports inside CI jobs.");

  tunnel
    .command("serve")
    .description(
      "Run the tunnel server: agents dial in (TCP, TLS or WebSocket), users reach <port>-<workspace>.<domain>. Prints USER_URL=, AGENT_URL=, AGENT_WS_URL= lines, then logs one line per event to stderr until interrupted.",
    )
    .addOption(
      envOption(
        "--domain <domain>",
        "domain of workspace host names <port>-<workspace>.<domain>",
        "WSPARITY_TUNNEL_DOMAIN",
        "wsparity.localtest",
      ),
    )
    .addOption(
      envOption(
        "--listen <host:port>",
        "user listener (HTTP, or HTTPS with --tls-cert)",
        "WSPARITY_TUNNEL_LISTEN",
        "127.0.0.1:8080",
      ),
    )
    .addOption(
      envOption(
        "--agent-listen <host:port|off>",
        "agent listener (TCP, or TLS with --agent-tls); agents may also use ws(s)://<listen>/-/agent",
        "WSPARITY_TUNNEL_AGENT_LISTEN",
        "127.0.0.1:8091",
      ),
    )
    .addOption(
      envOption(
        "--agent-socket <path>",
        "also take agents on a unix socket (unix:///path), for sandboxes that share a folder with this host",
        "WSPARITY_TUNNEL_AGENT_SOCKET",
      ),
    )
    .addOption(
      envOption("--tls-cert <file>", "PEM certificate: serve users over HTTPS", "WSPARITY_TUNNEL_TLS_CERT"),
    )
    .addOption(envOption("--tls-key <file>", "PEM private key for --tls-cert", "WSPARITY_TUNNEL_TLS_KEY"))
    .addOption(
      new Option("--agent-tls", "agents connect over TLS, with the same certificate")
        .env("WSPARITY_TUNNEL_AGENT_TLS")
        .default(false),
    )
    .addOption(
      new Option(
        "--no-user-tls",
        "serve users over plain HTTP even with a certificate (TLS ends at a proxy in front, as ssh -R's remote port is plain); agents keep TLS with --agent-tls",
      ).env("WSPARITY_TUNNEL_NO_USER_TLS"),
    )
    .addOption(
      new Option(
        "--self-signed",
        "make a throwaway certificate with openssl (prints its PEM as CA_PEM_FILE=…); implies HTTPS",
      )
        .env("WSPARITY_TUNNEL_SELF_SIGNED")
        .default(false),
    )
    .addOption(
      envOption(
        "--workspaces <file>",
        "YAML/JSON list of {workspace, agentToken|agentTokenFile, userTokens|userTokenFiles, ports}",
        "WSPARITY_TUNNEL_WORKSPACES",
      ),
    )
    .addOption(
      envOption(
        "--admin-token-file <file>",
        "enables PUT/DELETE /-/admin/workspaces/<name> for this bearer token",
        "WSPARITY_TUNNEL_ADMIN_TOKEN_FILE",
      ),
    )
    .addOption(
      envOption(
        "--max-header-bytes <n>",
        "larger request headers get 431",
        "WSPARITY_TUNNEL_MAX_HEADER_BYTES",
        String(DEFAULT_LIMITS.maxHeaderBytes),
      ),
    )
    .addOption(
      envOption(
        "--headers-timeout-ms <n>",
        "cut clients that send headers slower (slowloris)",
        "WSPARITY_TUNNEL_HEADERS_TIMEOUT_MS",
        String(DEFAULT_LIMITS.headersTimeoutMs),
      ),
    )
    .addOption(
      envOption(
        "--keepalive-timeout-ms <n>",
        "idle time before a user keep-alive connection closes",
        "WSPARITY_TUNNEL_KEEPALIVE_TIMEOUT_MS",
        String(DEFAULT_LIMITS.keepAliveTimeoutMs),
      ),
    )
    .addOption(
      envOption(
        "--half-close-idle-ms <n>",
        "cut a tunnelled connection one side has half-closed after this long without a byte",
        "WSPARITY_TUNNEL_HALF_CLOSE_IDLE_MS",
        String(DEFAULT_LIMITS.halfCloseIdleMs),
      ),
    )
    .addOption(
      envOption(
        "--hello-timeout-ms <n>",
        "an agent must authenticate within this time",
        "WSPARITY_TUNNEL_HELLO_TIMEOUT_MS",
        String(DEFAULT_LIMITS.helloTimeoutMs),
      ),
    )
    .addOption(
      envOption(
        "--heartbeat-ms <n>",
        "ping interval; an agent silent for two intervals is dropped",
        "WSPARITY_TUNNEL_HEARTBEAT_MS",
        String(DEFAULT_LIMITS.heartbeatMs),
      ),
    )
    .addOption(
      envOption(
        "--replace-grace-ms <n>",
        "how long a replaced agent keeps its open streams",
        "WSPARITY_TUNNEL_REPLACE_GRACE_MS",
        String(DEFAULT_LIMITS.replaceGraceMs),
      ),
    )
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });

  tunnel
    .command("connect")
    .description(
      "Open a raw TCP stream to a workspace port through the tunnel (HTTP CONNECT) on stdin/stdout, for ssh: -o ProxyCommand='wsparity tunnel connect --url URL --token-file F %h %p'",
    )
    .argument("<workspace>", "workspace name")
    .argument("<port>", "workspace port, e.g. 60022")
    .addOption(
      envOption("--url <url>", "the tunnel's user listener, http(s)://host:port", "WSPARITY_TUNNEL_USER_URL"),
    )
    .addOption(envOption("--token-file <file>", "file holding the user token", "WSPARITY_USER_TOKEN_FILE"))
    .addOption(
      envOption("--token <token>", "the user token itself (prefer --token-file)", "WSPARITY_USER_TOKEN"),
    )
    .addOption(
      envOption(
        "--domain <domain>",
        "send CONNECT <port>-<workspace>.<domain> instead of <workspace>:<port>",
        "WSPARITY_TUNNEL_DOMAIN",
      ),
    )
    .addOption(envOption("--ca <file>", "PEM CA that signed the server certificate", "WSPARITY_TUNNEL_CA"))
    .option("--insecure", "accept any server certificate (throwaway test setups only)")
    .action(async (workspace: string, portText: string, flags: ConnectFlags) => {
      await connect(workspace, portText, flags);
    });
}

async function serve(flags: ServeFlags): Promise<void> {
  const user = parseListen(flags.listen, "--listen");
  let tlsMaterial: TlsMaterial | undefined;
  if (flags.selfSigned) {
    const cert = await makeThrowawayCert(flags.domain);
    tlsMaterial = cert;
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const caFile = join(mkdtempSync(join(tmpdir(), "wsparity-tunnel-ca-")), "ca.pem");
    writeFileSync(caFile, cert.ca);
    process.stdout.write(`CA_PEM_FILE=${caFile}\n`);
  } else if (flags.tlsCert || flags.tlsKey) {
    if (!flags.tlsCert || !flags.tlsKey) throw new UsageError("--tls-cert and --tls-key go together");
    tlsMaterial = {
      cert: readSecret(flags.tlsCert, "--tls-cert"),
      key: readSecret(flags.tlsKey, "--tls-key"),
    };
  }
  if (flags.agentTls && !tlsMaterial)
    throw new UsageError("--agent-tls needs --tls-cert/--tls-key or --self-signed");
  const log = lineLog("wsparity-tunnel");
  let builder = new TunnelServerBuilder()
    .withDomain(flags.domain)
    .withUserListener({ ...user, ...(tlsMaterial && flags.userTls ? { tls: tlsMaterial } : {}) })
    .withLog(log)
    .withLimits({
      maxHeaderBytes: parsePositiveInt(flags.maxHeaderBytes, "--max-header-bytes"),
      headersTimeoutMs: parsePositiveInt(flags.headersTimeoutMs, "--headers-timeout-ms"),
      keepAliveTimeoutMs: parsePositiveInt(flags.keepaliveTimeoutMs, "--keepalive-timeout-ms"),
      halfCloseIdleMs: parsePositiveInt(flags.halfCloseIdleMs, "--half-close-idle-ms"),
      helloTimeoutMs: parsePositiveInt(flags.helloTimeoutMs, "--hello-timeout-ms"),
      heartbeatMs: parsePositiveInt(flags.heartbeatMs, "--heartbeat-ms"),
      replaceGraceMs: parsePositiveInt(flags.replaceGraceMs, "--replace-grace-ms"),
    });
  if (flags.agentListen !== "off") {
    const agent = parseListen(flags.agentListen, "--agent-listen");
    builder = builder.withAgentListener({
      ...agent,
      ...(flags.agentTls && tlsMaterial ? { tls: tlsMaterial } : {}),
    });
  }
  if (flags.agentSocket) builder = builder.withAgentSocket(flags.agentSocket);
  for (const workspace of flags.workspaces ? loadWorkspacesFile(flags.workspaces) : [])
    builder = builder.withWorkspace(workspace);
  if (flags.adminTokenFile)
    builder = builder.withAdminToken(readSecret(flags.adminTokenFile, "--admin-token-file"));
  let server: Awaited<ReturnType<TunnelServerBuilder["start"]>>;
  try {
    server = await builder.start();
  } catch (err) {
    throw new UsageError(`cannot listen: ${(err as Error).message}`);
  }
  process.stdout.write(
    `USER_URL=${server.userUrl}\n${server.agentUrl ? `AGENT_URL=${server.agentUrl}\n` : ""}${server.agentSocketUrl ? `AGENT_SOCKET_URL=${server.agentSocketUrl}\n` : ""}AGENT_WS_URL=${server.agentWebSocketUrl}\nDOMAIN=${server.domain}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.stop().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function connect(workspace: string, portText: string, flags: ConnectFlags): Promise<void> {
  if (!flags.url)
    throw new UsageError("no tunnel URL: pass --url http(s)://host:port or set WSPARITY_TUNNEL_USER_URL");
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw new UsageError(`--url ${flags.url}: not a URL`);
  }
  const port = parsePositiveInt(portText, "<port>");
  const token = flags.tokenFile ? readSecret(flags.tokenFile, "--token-file") : flags.token;
  if (!token) throw new UsageError("no user token: pass --token-file FILE or set WSPARITY_USER_TOKEN_FILE");
  let socket: Awaited<ReturnType<typeof openConnectTunnel>>;
  try {
    socket = await openConnectTunnel({
      url,
      workspace,
      port,
      token,
      ...(flags.domain ? { domain: flags.domain } : {}),
      ...(flags.ca ? { ca: readFileSync(flags.ca, "utf8") } : {}),
      insecure: flags.insecure === true,
    });
  } catch (err) {
    if (err instanceof ConnectRefused) throw new CheckFailed(err.message);
    throw new CheckFailed(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve) => {
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    socket.once("close", () => {
      process.stdin.unpipe(socket);
      process.stdin.pause();
      resolve();
    });
    socket.on("error", () => socket.destroy());
  });
}
