// `wsparity sim gitlab`: the GitLab simulator alone, as a long-running process (a container of the compose
// `local` profile). It registers no runner and creates no project: a bootstrap does that through the public API.

import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../../util/errors.ts";
import { untilStopSignal } from "../../util/stop-signal.ts";
import { GitLabSimulator } from "./server.ts";

export interface SimGitlabOptions {
  listen: string;
  externalUrl?: string;
  rootTokenFile?: string;
  workspacesProxyScheme: string;
  workspacesProxyPort?: string;
  partialReconcileInterval?: string;
}

/** `host:port`, `[v6]:port`; port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]*:[^\]]*)\]|([^:[\]]+)):(0|[1-9]\d{0,4})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new UsageError(`--listen must be host:port (e.g. 0.0.0.0:8929), got "${value}"`);
  return { host: (match[1] ?? match[2])!, port };
}

/** An http(s) origin: GitLab's external_url with a relative URL root is not simulated. */
export function parseExternalUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--external-url must be a URL such as http://gitlab-sim:8929, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--external-url must be http or https, got "${value}"`);
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password)
    throw new UsageError(
      `--external-url must be an origin (scheme, host and port only; a relative URL root is not supported), got "${value}"`,
    );
  return url.origin;
}

function positiveInteger(option: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw new UsageError(`${option} must be a whole number from 1 to ${max}, got "${value}"`);
  return n;
}

/** The simulator these options describe, not started. */
export function simulatorFrom(opts: SimGitlabOptions): { sim: GitLabSimulator; tokenFile?: string } {
  const { host, port } = parseListen(opts.listen);
  const externalUrl = opts.externalUrl === undefined ? undefined : parseExternalUrl(opts.externalUrl);
  if (opts.workspacesProxyScheme !== "http" && opts.workspacesProxyScheme !== "https")
    throw new UsageError(
      `--workspaces-proxy-scheme must be http or https, got "${opts.workspacesProxyScheme}"`,
    );
  const proxyPort = positiveInteger("--workspaces-proxy-port", opts.workspacesProxyPort, 65535);
  const partial = positiveInteger("--partial-reconcile-interval", opts.partialReconcileInterval, 86_400);
  const sim = new GitLabSimulator({
    host,
    port,
    ...(externalUrl ? { externalUrl } : {}),
    remoteDevelopment: {
      workspacesProxy: { scheme: opts.workspacesProxyScheme, port: proxyPort },
      ...(partial ? { partialReconciliationIntervalSeconds: partial } : {}),
    },
  });
  return { sim, ...(opts.rootTokenFile ? { tokenFile: opts.rootTokenFile } : {}) };
}

/** Written whole (rename), readable by its owner only. */
function writeTokenFile(file: string, token: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (err) {
    throw new UsageError(`--root-token-file: cannot write ${file}: ${(err as Error).message}`);
  }
}

async function runSimGitlab(opts: SimGitlabOptions): Promise<void> {
  const { sim, tokenFile } = simulatorFrom(opts);
  // Listen before starting, so a SIGTERM that comes while the port is being bound still stops it cleanly.
  const stopped = untilStopSignal("the GitLab simulator");
  // Written before the port opens, so whoever sees /-/readiness answer finds this run's token, never a
  // file an earlier run left; removed when it stops, since the token dies with the process.
  if (tokenFile) writeTokenFile(tokenFile, sim.rootToken);
  const removeTokenFile = () => tokenFile && rmSync(tokenFile, { force: true });
  try {
    await sim.start();
  } catch (err) {
    removeTokenFile();
    throw new UsageError(`--listen ${opts.listen}: cannot listen: ${(err as Error).message}`);
  }
  process.stdout.write(
    `GitLab simulator listening on ${sim.listening}, external URL ${sim.url}${tokenFile ? `, root token in ${tokenFile}` : ""}\n`,
  );
  await stopped;
  await sim.stop();
  removeTokenFile();
  process.stdout.write("GitLab simulator stopped\n");
}

export function registerSimGitlabCommand(sim: Command): void {
  sim
    .command("gitlab")
    .description(
      "Run the GitLab simulator alone until SIGINT or SIGTERM (no runner, no project: bootstrap them through its API, e.g. with live init).",
    )
    .option("--listen <host:port>", "address to listen on (port 0: any free port)", "127.0.0.1:8929")
    .option(
      "--external-url <url>",
      "the URL it gives out (web_url, clone URLs, CI_SERVER_URL), as GitLab's external_url (default: the listen address)",
    )
    .option(
      "--root-token-file <file>",
      "write root's personal access token (api scope) here, mode 0600, before listening; removed on stop",
    )
    .option("--workspaces-proxy-scheme <scheme>", "scheme of workspace URLs (http or https)", "https")
    .option("--workspaces-proxy-port <n>", "port of workspace URLs (default: none, the ingress's)")
    .option(
      "--partial-reconcile-interval <seconds>",
      "partial reconciliation interval sent to agentk (default 10)",
    )
    .action((opts: SimGitlabOptions) => runSimGitlab(opts));
}
