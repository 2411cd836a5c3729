// `wsparity sim kubernetes`: the Kubernetes API simulator (API server, controllers, kubelet) alone, as one
// long-running process, e.g. a container of the compose stack's `local` profile that other containers reach
// through --server-url.

import { rmSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parseListen } from "../../tunnel/serve-config.ts";
import { UsageError } from "../../util/errors.ts";
import { untilStopSignal } from "../../util/stop-signal.ts";
import { type KubernetesSim, startKubernetesSim } from "./index.ts";
import { processKubeletUnavailable } from "./kubelet/process-backend.ts";

interface Flags {
  listen: string;
  serverUrl?: string;
  kubeconfigOut?: string;
  stateDir: string;
  kubelet: string;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

/** The server clients are given: https only (the simulator serves TLS); a port only when the URL writes one. */
export function parseServerUrl(value: string): { host: string; port?: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--server-url ${value}: not a URL; expected https://HOST[:PORT]`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "https:" || url.pathname !== "/" || url.search || url.hash || url.username)
    throw new UsageError(
      `--server-url ${value}: expected https://HOST[:PORT] (the simulator serves only HTTPS, at its root)`,
    );
  if (!isIP(host) && !HOST_NAME.test(host))
    throw new UsageError(`--server-url ${value}: "${host}" is neither a host name nor an IP address`);
  // URL drops a port equal to the scheme's default (443), so the written port is read from the text.
  const written = /^https:\/\/(\[[^\]]*\]|[^/:]*):(\d+)/i.exec(value.trim())?.[2];
  return written ? { host, port: Number(written) } : { host };
}

export function registerSimKubernetesCommand(program: Command): void {
  const sim =
    program.commands.find((c) => c.name() === "sim") ??
    program.command("sim").description("Run the sim tier's simulators and servers locally.");
  sim
    .command("kubernetes")
    .description(
      "Run the Kubernetes API simulator alone (API server, controllers, a kubelet), write a kubeconfig for it, and run until SIGINT or SIGTERM, then stop every pod and exit 0.",
    )
    .option(
      "--listen <host:port>",
      "where the API server listens (port 0: any free port, printed)",
      "127.0.0.1:6443",
    )
    .option(
      "--server-url <url>",
      "the server URL written into the kubeconfig and named by the serving certificate, e.g. https://kubernetes-sim:6443 (without a port: the port listened on); default: the listen address",
    )
    .option(
      "--kubeconfig-out <file>",
      "where the kubeconfig goes once the server listens (mode 0600: it holds the token; default STATE_DIR/kubeconfig)",
    )
    .option("--state-dir <dir>", "where pods' folders and volumes go", ".state/kubernetes")
    .option(
      "--kubelet <backend>",
      "run pods as local processes (process; needs root) or Docker containers (docker)",
      "process",
    )
    .action(async (flags: Flags) => {
      const { host, port } = parseListen(flags.listen, "--listen");
      const server = flags.serverUrl === undefined ? undefined : parseServerUrl(flags.serverUrl);
      if (flags.kubelet !== "process" && flags.kubelet !== "docker")
        throw new UsageError(`--kubelet must be process or docker, got "${flags.kubelet}"`);
      if (flags.kubelet === "process") {
        const missing = processKubeletUnavailable();
        if (missing)
          throw new UsageError(
            `--kubelet process: ${missing}; run as root (in compose: a privileged container) or give --kubelet docker`,
          );
      }
      const stateDir = resolve(flags.stateDir);
      const kubeconfigPath = flags.kubeconfigOut ? resolve(flags.kubeconfigOut) : undefined;
      let sim: KubernetesSim;
      try {
        sim = await startKubernetesSim({
          stateDir,
          host,
          port,
          kubelet: flags.kubelet,
          ...(server ? { server } : {}),
          ...(kubeconfigPath ? { kubeconfigPath } : {}),
        });
      } catch (err) {
        const { code } = err as NodeJS.ErrnoException;
        if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES")
          throw new UsageError(`--listen ${flags.listen}: cannot listen there (${code})`);
        throw err;
      }
      const at = host.includes(":") ? `[${host}]:${sim.listening.port}` : `${host}:${sim.listening.port}`;
      process.stdout.write(
        [
          `Kubernetes API simulator listening on ${at} (HTTPS)`,
          `  kubeconfig ${sim.kubeconfigPath} (server ${sim.url})`,
          `  pods run as ${flags.kubelet === "docker" ? "Docker containers" : "local processes"}; their folders under ${stateDir}`,
          "Running; SIGINT or SIGTERM stops every pod and exits.",
          "",
        ].join("\n"),
      );
      // Pods' processes are not in a PID namespace of their own: what they orphan is reparented to PID 1, and node
      // reaps only the children it started (5 zombies from 5 orphaned `sleep 1 &` in a container, 0 with --init).
      if (process.pid === 1 && flags.kubelet === "process")
        process.stderr.write(
          "warning: running as PID 1, which node does not make a reaper: processes the pods orphan stay zombies; run under an init (compose `init: true`, `docker run --init`)\n",
        );
      const signal = await untilStopSignal("the simulator's pods");
      process.stdout.write(`${signal}: stopping every pod…\n`);
      await sim.stop();
      rmSync(sim.kubeconfigPath, { force: true });
      process.stdout.write("Stopped; the kubeconfig (its token died with the simulator) is removed.\n");
    });
}
