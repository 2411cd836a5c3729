// `wsparity live up --profile local`: the sim tier's components as separate containers (docker-compose.yml's local
// profile), then the same bootstrap a real GitLab gets, through the GitLab simulator's public API only, and the
// settings file `wsparity run --settings` reads.
import { UsageError } from "../util/errors.ts";
import { bootstrap, defaultDevfilesDir } from "./bootstrap.ts";
import { STACK_NAMES } from "./bootstrap-steps.ts";
import { composeClient, exec } from "./compose-client.ts";
import { readComposeFile } from "./compose-file.ts";
import {
  LOCAL_AGENTS_PROFILE,
  type LocalPorts,
  LocalProfile,
  localEndpoints,
  localPlan,
  localSettingsFile,
  prepareLocalState,
} from "./local-profile.ts";
import { formatMissing, preflight } from "./preflight.ts";
import { profileOptions } from "./profile-hooks.ts";

const LOCAL_IMAGE = "wsparity/node:amd64";

function imageHasGit(image: string): boolean {
  return (
    exec("docker", ["run", "--rm", "--network", "none", "--entrypoint", "git", image, "--version"]).status ===
    0
  );
}

export interface LocalUpOptions {
  stateDir: string;
  ports: LocalPorts;
  log(line: string): void;
}

/** Starts the local stack and bootstraps it; returns the settings file. Each wait has a deadline. */
export async function localUp(opts: LocalUpOptions): Promise<string> {
  const compose = readComposeFile();
  const missing = preflight({ compose, profile: "local", licenceFile: undefined, arches: ["amd64"] });
  const agentImages = preflight({
    compose,
    profile: LOCAL_AGENTS_PROFILE,
    licenceFile: undefined,
    arches: ["amd64"],
  });
  const all = [...missing, ...agentImages.filter((m) => !missing.some((x) => x.what === m.what))];
  if (all.length === 0 && !imageHasGit(LOCAL_IMAGE))
    all.push({
      what: `git in image ${LOCAL_IMAGE}`,
      how: "the shell runner fetches sources with git, which images built before it was added lack: npm run images:build",
    });
  if (all.length) throw new UsageError(formatMissing(all));
  const plan = localPlan(opts.stateDir, opts.ports);
  const client = await composeClient();
  const running = (await client.ps(plan)).filter((s) => s.state === "running").map((s) => s.service);
  const { tunnelAdminToken } = prepareLocalState(opts.stateDir, running);
  opts.log(`live up --profile local with ${client.describe}, project ${plan.projectName}`);
  const started = Date.now();
  await client.up(plan, (line) => opts.log(`  ${line}`));
  opts.log(`every local service is up after ${Math.round((Date.now() - started) / 1000)} s; bootstrapping`);
  const endpoints = localEndpoints(opts.ports, tunnelAdminToken);
  const hooks = new LocalProfile(client, plan, opts.stateDir, opts.log);
  const settingsFile = localSettingsFile(opts.stateDir);
  await bootstrap({
    ...profileOptions(hooks),
    gitlabUrl: endpoints.gitlabUrl,
    settingsFile,
    ...STACK_NAMES,
    tunnelDomain: "tunnel.localtest",
    tunnel: endpoints.tunnel,
    resolveTo: endpoints.resolveTo,
    tier: "sim",
    executors: ["shell"],
    arches: ["amd64"],
    devfilesDir: defaultDevfilesDir(),
    agentkDeadlineMs: 120_000,
    log: opts.log,
  });
  return settingsFile;
}
