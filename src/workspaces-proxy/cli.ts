// `wsparity workspaces-proxy`: GitLab's workspaces proxy as its own process outside the cluster (a container of the
// compose stack's `local` profile): users reach <port>-<workspace>.<dns zone>, GitLab vouches for their token, and
// bytes reach the workspace's pod through the API server's port-forward.

import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { parseListen } from "../tunnel/serve-config.ts";
import { UsageError } from "../util/errors.ts";
import { untilStopSignal } from "../util/stop-signal.ts";
import { GitLabUserAuth } from "./gitlab-auth.ts";
import { portForwardDialer } from "./port-forward-dialer.ts";
import { WorkspacesProxy } from "./server.ts";
import { WorkspaceUpstreams } from "./upstream.ts";

interface Flags {
  listen: string;
  dnsZone: string;
  gitlabUrl: string;
  kubeconfig?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** How long the proxy waits at start for GitLab and the API server (containers of one stack start together). */
const REACH_DEADLINE_MS = 30_000;

const DNS_ZONE = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i;

export function registerWorkspacesProxyCommand(program: Command): void {
  program
    .command("workspaces-proxy")
    .description(
      "Run GitLab's workspaces proxy outside the cluster: serve <port>-<workspace>.<dns zone> to users whose GitLab token GitLab vouches for, reaching the workspace's pod through the API server's port-forward. Runs until SIGINT or SIGTERM.",
    )
    .option("--listen <host:port>", "where users connect (port 0: any free port, printed)", "127.0.0.1:9876")
    .requiredOption("--dns-zone <zone>", "the agent's remote_development.dns_zone, e.g. workspaces.localtest")
    .requiredOption(
      "--gitlab-url <url>",
      "GitLab, which the proxy asks whose token may enter which workspace",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig of the workspaces' cluster; else $KUBECONFIG or ~/.kube/config",
    )
    .option("--tls-cert <file>", "PEM certificate for *.<dns zone>: serve users over HTTPS (with --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .action(async (flags: Flags) => {
      const { host, port } = parseListen(flags.listen, "--listen");
      const tls = readTls(flags);
      if (!DNS_ZONE.test(flags.dnsZone))
        throw new UsageError(
          `--dns-zone ${flags.dnsZone}: expected a DNS name such as workspaces.example.dev`,
        );
      const gitlabUrl = parseHttpUrl(flags.gitlabUrl, "--gitlab-url");
      const kc = loadKubeconfig(flags.kubeconfig);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const server = kc.getCurrentCluster()!.server;
      const kubeconfigOption = flags.kubeconfig ? `--kubeconfig ${flags.kubeconfig}` : "the kubeconfig";
      await Promise.all([
        reach("--gitlab-url", `GitLab at ${gitlabUrl}`, log, async () => {
          await fetch(gitlabUrl, { signal: AbortSignal.timeout(5_000) });
        }),
        reach(kubeconfigOption, `the API server at ${server}`, log, async () => {
          try {
            await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces({ limit: 1 });
          } catch (err) {
            const status = (err as { code?: unknown }).code;
            if (typeof status !== "number") throw err;
            // An answer: the server is up, but the proxy must be allowed to find workspace Services.
            throw new UsageError(
              `${kubeconfigOption}: the API server at ${server} refuses to list Services (HTTP ${status}); the proxy needs get/list on services and pods and create on pods/portforward`,
            );
          }
        }),
      ]);
      const proxy = new WorkspacesProxy({
        dnsZone: flags.dnsZone,
        auth: new GitLabUserAuth(gitlabUrl),
        upstreams: new WorkspaceUpstreams(kc, portForwardDialer(kc)),
        host,
        port,
        ...(tls ? { tls } : {}),
      });
      try {
        await proxy.start();
      } catch (err) {
        throw new UsageError(
          `--listen ${flags.listen}: cannot listen there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
      const at = host.includes(":") ? `[${host}]:${proxy.port}` : `${host}:${proxy.port}`;
      process.stdout.write(
        [
          `Workspaces proxy listening on ${at}: ${tls ? "https" : "http"}://<port>-<workspace>.${flags.dnsZone}:${proxy.port}/`,
          `  users sign in with a token of GitLab at ${gitlabUrl}; pods reached through port-forward at ${kc.getCurrentCluster()!.server}`,
          "Running; SIGINT or SIGTERM stops it.",
          "",
        ].join("\n"),
      );
      const signal = await untilStopSignal("the proxy");
      process.stdout.write(`${signal}: stopping…\n`);
      await proxy.stop();
      process.stdout.write("Stopped.\n");
    });
}

function readTls(flags: Flags): { cert: string; key: string } | undefined {
  if (!flags.tlsCert && !flags.tlsKey) return undefined;
  if (!flags.tlsCert || !flags.tlsKey) throw new UsageError("give --tls-cert and --tls-key together");
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(
        `${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const tls = { cert: read(flags.tlsCert, "--tls-cert"), key: read(flags.tlsKey, "--tls-key") };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new UsageError(
      `--tls-cert/--tls-key: not a PEM certificate and its key (${(err as Error).message})`,
    );
  }
  return tls;
}

function parseHttpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} ${value}: not a URL; expected http(s)://HOST[:PORT]`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`${flag} ${value}: expected an http or https URL`);
  return url.href.replace(/\/$/, "");
}

function loadKubeconfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const flag = file ? `--kubeconfig ${file}` : "the default kubeconfig ($KUBECONFIG or ~/.kube/config)";
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new UsageError(`${flag}: names no current cluster; give --kubeconfig FILE`);
  return kc;
}

/** Retries until the service answers or the deadline passes, then exits 2 naming the option. */
async function reach(
  option: string,
  what: string,
  log: (line: string) => void,
  ask: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + REACH_DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await ask();
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const why = describeFailure(err);
      if (Date.now() > deadline)
        throw new UsageError(
          `${option}: ${what} did not answer within ${REACH_DEADLINE_MS / 1000} s (${why})`,
        );
      if (attempt === 0) log(`waiting up to ${REACH_DEADLINE_MS / 1000} s for ${what} (${why})…`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function describeFailure(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
