// `wsparity live up|status|down`: the live tier's compose stack, with a preflight that names every missing
// prerequisite before anything starts, and a plan (`--dry-run`) of what would start and what the bootstrap does.
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import type { Arch, Executor } from "./bootstrap.ts";
import { BOOTSTRAP_STEPS } from "./bootstrap-steps.ts";
import { composeClient, detectCompose } from "./compose-client.ts";
import { COMPOSE_FILE, readComposeFile } from "./compose-file.ts";
import { type ComposeUpPlan, composeUpPlan, describeWait, LIVE_PROJECT } from "./compose-plan.ts";
import { ARCHES, EXECUTORS, listOf, registerLiveInit } from "./init-cli.ts";
import { LOCAL_PROJECT, localDownPlan, localPlan, localPortsFrom } from "./local-profile.ts";
import { formatMissing, preflight } from "./preflight.ts";

const PROFILES = ["live", "local"];
const PROFILE_OPTION = [
  "--profile <name>",
  "compose profile: live (GitLab, gitlab-runner, k3s) or local (the project's own simulators, one container each)",
  "live",
] as const;

/**
 * Where up keeps its tokens and settings.yaml (docker-compose.yml mounts it): .state/live, or .state/local (the
 * local profile also reads WSPARITY_LOCAL_STATE and its host ports from WSPARITY_LOCAL_{GITLAB,PROXY,TUNNEL}_PORT).
 */
function stateDirOf(profile: string, given: string | undefined): string {
  // Beside docker-compose.yml by default, whatever the working directory: that is the directory it mounts.
  return given ? resolve(given) : join(dirname(COMPOSE_FILE), ".state", profile);
}

function projectOf(profile: string): string {
  if (!PROFILES.includes(profile))
    throw new UsageError(`--profile must be one of ${PROFILES.join(", ")}, got "${profile}"`);
  return profile === "local" ? LOCAL_PROJECT : LIVE_PROJECT;
}

interface UpOptions {
  profile: string;
  dryRun?: boolean;
  license?: string;
  arch: string;
  executors: string;
  stateDir?: string;
  agentkTimeout: string;
}

function planFor(opts: UpOptions): { plan: ComposeUpPlan; licence: string | undefined } {
  projectOf(opts.profile);
  if (opts.profile === "local")
    return {
      plan: localPlan(stateDirOf("local", opts.stateDir), localPortsFrom(process.env)),
      licence: undefined,
    };
  const licence = opts.license ?? process.env.WSPARITY_GITLAB_LICENSE;
  const env: Record<string, string> = licence ? { WSPARITY_GITLAB_LICENSE: licence } : {};
  return { plan: composeUpPlan(readComposeFile(), opts.profile, env), licence };
}

export function formatPlan(plan: ComposeUpPlan, composeDescription: string): string {
  return [
    `compose: ${composeDescription}`,
    `file: ${plan.file}`,
    `project: ${plan.projectName}; profiles: ${plan.profiles.join(", ")}`,
    `environment passed to compose: ${Object.keys(plan.env).join(", ") || "(none)"}`,
    `services (${plan.services.length}), each waited for:`,
    ...plan.waits.map((w) => `  - ${describeWait(w)}`),
    "then the bootstrap, each step idempotent, timed and printed:",
    ...BOOTSTRAP_STEPS.map((s, i) => `  ${i + 1}. ${s.title}`),
  ].join("\n");
}

export function registerLiveCommands(program: Command): void {
  const live = program
    .command("live")
    .description("The live tier: a real GitLab, gitlab-runner and k3s with agentk.");
  registerLiveInit(live);
  live
    .command("up")
    .description(
      "Check the prerequisites, start docker-compose.yml's live profile, wait for each service, then bootstrap GitLab (root token, project, agent, agentk, mapping, runners registered) and write STATE_DIR/settings.yaml; idempotent. --dry-run prints the plan and the preflight only.",
    )
    .option(...PROFILE_OPTION)
    .option("--dry-run", "print what would start and the bootstrap that follows; start nothing")
    .option("--license <file>", "GitLab Premium or Ultimate licence file (env: WSPARITY_GITLAB_LICENSE)")
    .option("--arch <list>", "architectures the runs will cover (arm64 needs QEMU binfmt)", "amd64,arm64")
    .option("--executors <list>", "runner executors to create and register", "shell,docker,kubernetes")
    .option(
      "--state-dir <dir>",
      "where the tokens, the agentk manifest and settings.yaml go (default: .state/PROFILE)",
    )
    .option("--agentk-timeout <seconds>", "how long to wait for GitLab to hear from agentk", "600")
    .action(async (opts: UpOptions) => {
      const executors = listOf<Executor>(opts.executors, EXECUTORS, "--executors");
      const arches = listOf<Arch>(opts.arch, ARCHES, "--arch");
      const agentkTimeout = Number(opts.agentkTimeout);
      if (!Number.isFinite(agentkTimeout) || agentkTimeout <= 0)
        throw new UsageError(`--agentk-timeout must be a number of seconds, got "${opts.agentkTimeout}"`);
      const { plan, licence } = planFor(opts);
      const found = detectCompose();
      const missing = preflight({
        compose: readComposeFile(),
        profile: opts.profile,
        licenceFile: licence,
        arches: opts.profile === "local" ? ["amd64"] : opts.arch.split(","),
      });
      if (opts.dryRun) {
        const description = found ? `${found.implementation} ${found.version}` : "none found";
        process.stdout.write(`${formatPlan(plan, description)}\n\n`);
        process.stdout.write(
          missing.length ? `${formatMissing(missing)}\n` : "preflight: every prerequisite is here\n",
        );
        return;
      }
      const stateDir = stateDirOf(opts.profile, opts.stateDir);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      if (opts.profile === "local") {
        const { localUp } = await import("./local-up.ts");
        const settings = await localUp({ stateDir, ports: localPortsFrom(process.env), log });
        log(`run the matrix: wsparity run --settings ${settings} scenarios/minimal.yaml`);
        return;
      }
      if (missing.length) throw new UsageError(formatMissing(missing));
      // Loaded here: --dry-run and the other live commands start without gitbeaker.
      const { liveUp, publishedPorts, workspacesCertFile } = await import("./up.ts");
      const result = await liveUp({
        compose: await composeClient(),
        plan,
        stateDir,
        ports: publishedPorts(process.env),
        executors,
        arches,
        agentkDeadlineMs: agentkTimeout * 1000,
        log,
      });
      log(
        `settings: ${stateDir}/settings.yaml; tokens are kept in ${result.stateFile} and ${stateDir} (0600)`,
      );
      log(
        `run the matrix: NODE_EXTRA_CA_CERTS=${workspacesCertFile(stateDir)} wsparity run --tier live --settings ${stateDir}/settings.yaml`,
      );
    });
  live
    .command("status")
    .description(
      "Each service of the live stack (state and health), and each runner's and the agent's connection as GitLab reports it (from the settings live up wrote).",
    )
    .option(...PROFILE_OPTION)
    .option(
      "--settings <file>",
      "the tier settings live up (or live init) wrote (default: .state/PROFILE/settings.yaml)",
    )
    .action(async (opts: { profile: string; settings?: string }) => {
      const projectName = projectOf(opts.profile);
      const { liveStatus } = await import("./status.ts");
      await liveStatus({
        compose: await composeClient(),
        plan: { file: COMPOSE_FILE, projectName },
        settingsFile: resolve(opts.settings ?? `${stateDirOf(opts.profile, undefined)}/settings.yaml`),
        out: (line) => process.stdout.write(`${line}\n`),
      });
    });
  live
    .command("down")
    .description(
      "Stop and remove the live stack's containers and network; --volumes also removes GitLab's and k3s's data.",
    )
    .option("--volumes", "also remove the named volumes (GitLab's next boot is a first boot again)")
    .option(...PROFILE_OPTION)
    .option("--state-dir <dir>", "the local profile's state folder (kept: remove it to forget its tokens)")
    .action(async (opts: { volumes?: boolean; profile: string; stateDir?: string }) => {
      const projectName = projectOf(opts.profile);
      const compose = await composeClient();
      const plan =
        opts.profile === "local"
          ? localDownPlan(stateDirOf("local", opts.stateDir), localPortsFrom(process.env))
          : { file: COMPOSE_FILE, projectName, profiles: ["live", "live-setup", "live-proxy"] };
      await compose.down(plan, { volumes: Boolean(opts.volumes) });
      process.stdout.write(
        `removed compose project ${projectName}${opts.volumes ? " and its volumes" : ""}\n`,
      );
    });
}
