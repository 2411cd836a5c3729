// `wsparity live init`: point the harness at a GitLab that already exists. Bootstraps what is missing there
// (group, project and devfiles, agent config, agent and token, agentk's connection, mapping, runners) and
// writes the tier settings file; a second run finds everything and changes nothing.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import type { Arch, Executor } from "./bootstrap.ts";
import { STACK_NAMES } from "./bootstrap-steps.ts";

interface InitOptions {
  gitlabUrl: string;
  token?: string;
  kubeconfig?: string;
  settings: string;
  group: string;
  project: string;
  agent: string;
  dnsZone: string;
  tunnelDomain: string;
  tunnelUrl?: string;
  tunnelAdminTokenFile?: string;
  tunnelAgentUrl?: string;
  executors: string;
  arch: string;
  startAgentk?: boolean;
  agentkTimeout: string;
}

export const EXECUTORS = ["shell", "docker", "kubernetes"];
export const ARCHES = ["amd64", "arm64"];

export function listOf<T extends string>(value: string, allowed: string[], option: string): T[] {
  const items = value.split(",").map((s) => s.trim());
  const bad = items.filter((i) => !allowed.includes(i));
  if (bad.length || !items.length)
    throw new UsageError(`${option} takes a comma-separated list of ${allowed.join(", ")}; got "${value}"`);
  return items as T[];
}

export function registerLiveInit(live: Command): void {
  live
    .command("init")
    .description(
      "Bootstrap an existing GitLab for the harness through its public API (group, project with the scenarios' devfiles, agent config, cluster agent and token, agentk connected, namespace mapping, tagged runners) and write the tier settings file; idempotent.",
    )
    .requiredOption("--gitlab-url <url>", "the GitLab to use, e.g. https://gitlab.example.com")
    .option("--token <token>", "personal access token with the api scope (env: GITLAB_TOKEN)")
    .option(
      "--kubeconfig <file>",
      "the cluster agentk runs against (for the printed command or --start-agentk)",
    )
    .option("--settings <file>", "tier settings file to write", "wsparity-live.yaml")
    .option("--group <path>", "top-level group for the project; the agent is mapped to it", STACK_NAMES.group)
    .option("--project <path>", "project in that group", STACK_NAMES.project)
    .option("--agent <name>", "cluster agent name", STACK_NAMES.agentName)
    .option("--dns-zone <zone>", "the agent config's dns_zone", STACK_NAMES.dnsZone)
    .option("--tunnel-domain <domain>", "the tunnel's domain for CI workspaces", "tunnel.localtest")
    .option("--tunnel-url <url>", "wsparity's tunnel server (tunnel serve): its user listener")
    .option("--tunnel-admin-token-file <file>", "the tunnel's admin token (tunnel serve --admin-token-file)")
    .option(
      "--tunnel-agent-url <url>",
      "where CI jobs' agents dial the tunnel, e.g. tls://tunnel.example.com:8443",
    )
    .option("--executors <list>", "runner executors", "shell,docker,kubernetes")
    .option(
      "--arch <list>",
      "architectures (one docker runner serves both, arm64 through QEMU; shell and kubernetes amd64 only)",
      "amd64,arm64",
    )
    .option("--start-agentk", "run wsparity agentk here with the agent token, until Ctrl-C")
    .option("--agentk-timeout <seconds>", "how long to wait for GitLab to hear from agentk", "300")
    .action(async (opts: InitOptions) => {
      const token = opts.token ?? process.env.GITLAB_TOKEN;
      if (!token) throw new UsageError("give a personal access token with --token or GITLAB_TOKEN");
      if (!/^https?:\/\//.test(opts.gitlabUrl))
        throw new UsageError(`--gitlab-url must be an http(s) URL, got "${opts.gitlabUrl}"`);
      const deadline = Number(opts.agentkTimeout);
      if (!Number.isFinite(deadline) || deadline <= 0)
        throw new UsageError(`--agentk-timeout must be a number of seconds, got "${opts.agentkTimeout}"`);
      const tunnelGiven = [opts.tunnelUrl, opts.tunnelAdminTokenFile, opts.tunnelAgentUrl].filter(
        Boolean,
      ).length;
      if (tunnelGiven !== 0 && tunnelGiven !== 3)
        throw new UsageError(
          "give the tunnel with all three of --tunnel-url, --tunnel-admin-token-file and --tunnel-agent-url (or none: CI cells then cannot run)",
        );
      let tunnelAdminToken: string | undefined;
      if (opts.tunnelAdminTokenFile) {
        try {
          tunnelAdminToken = readFileSync(opts.tunnelAdminTokenFile, "utf8").trim();
        } catch (err) {
          throw new UsageError(
            `cannot read --tunnel-admin-token-file ${opts.tunnelAdminTokenFile}: ${(err as Error).message}`,
          );
        }
      }
      // Loaded here, not at registration: every other `live` command starts without gitbeaker and client-node.
      const { bootstrap, defaultDevfilesDir } = await import("./bootstrap.ts");
      const settingsFile = resolve(opts.settings);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const result = await bootstrap({
        gitlabUrl: opts.gitlabUrl,
        token,
        settingsFile,
        group: opts.group,
        project: opts.project,
        agentName: opts.agent,
        dnsZone: opts.dnsZone,
        tunnelDomain: opts.tunnelDomain,
        ...(opts.tunnelUrl && tunnelAdminToken && opts.tunnelAgentUrl
          ? { tunnel: { url: opts.tunnelUrl, adminToken: tunnelAdminToken, agentUrl: opts.tunnelAgentUrl } }
          : {}),
        executors: listOf<Executor>(opts.executors, EXECUTORS, "--executors"),
        arches: listOf<Arch>(opts.arch, ARCHES, "--arch"),
        devfilesDir: defaultDevfilesDir(),
        agentkDeadlineMs: deadline * 1000,
        log,
        async agentk(tokenFile) {
          const kubeconfig = opts.kubeconfig ? ` --kubeconfig ${opts.kubeconfig}` : "";
          if (!opts.startAgentk) {
            log(
              `  agentk: run  wsparity agentk --gitlab-url ${opts.gitlabUrl} --token-file ${tokenFile}${kubeconfig}  (or pass --start-agentk)`,
            );
            return undefined;
          }
          const { KubeConfig } = await import("@kubernetes/client-node");
          const { Agentk } = await import("../agentk/agentk.ts");
          const kc = new KubeConfig();
          if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
          else kc.loadFromDefault();
          const agentk = await new Agentk({
            gitlabUrl: opts.gitlabUrl,
            token: readFileSync(tokenFile, "utf8").trim(),
            kc,
            log: (line) => process.stderr.write(`agentk: ${line}\n`),
          }).start();
          return () => agentk.stop();
        },
      });
      log(`settings: ${settingsFile}; tokens shown once by GitLab are kept in ${result.stateFile} (0600)`);
      log(`run the matrix: wsparity run --tier live --settings ${settingsFile}`);
      if (result.stopAgentk) {
        log("agentk keeps running here; Ctrl-C stops it");
        await new Promise<void>((done) => {
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
        });
        await result.stopAgentk();
      }
    });
}
