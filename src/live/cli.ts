// `wsparity live up|status|down`: the live tier's compose stack, with a preflight that names every missing
// prerequisite before anything starts, and a plan (`--dry-run`) of what would start and what the bootstrap does.
import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import type { Arch, Executor } from "./bootstrap.ts";
import { BOOTSTRAP_STEPS } from "./bootstrap-steps.ts";
import { composeClient, detectCompose } from "./compose-client.ts";
import { COMPOSE_FILE, readComposeFile } from "./compose-file.ts";
import { type ComposeUpPlan, composeUpPlan, describeWait, LIVE_PROJECT } from "./compose-plan.ts";
import { ARCHES, EXECUTORS, listOf, registerLiveInit } from "./init-cli.ts";
import { formatMissing, preflight } from "./preflight.ts";

const PROFILES = ["live"];
/** Where live up keeps its tokens, the agentk manifest and settings.yaml (docker-compose.yml mounts it). */
const LIVE_STATE_DIR = ".state/live";

interface UpOptions {
  profile: string;
  dryRun?: boolean;
  license?: string;
  arch: string;
  executors: string;
  stateDir: string;
  agentkTimeout: string;
}

function planFor(opts: UpOptions): { plan: ComposeUpPlan; licence: string | undefined } {
  if (!PROFILES.includes(opts.profile))
    throw new UsageError(`--profile must be one of ${PROFILES.join(", ")}, got "${opts.profile}"`);
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
    .option("--profile <name>", "compose profile", "live")
    .option("--dry-run", "print what would start and the bootstrap that follows; start nothing")
    .option("--license <file>", "GitLab Premium or Ultimate licence file (env: WSPARITY_GITLAB_LICENSE)")
    .option("--arch <list>", "architectures the runs will cover (arm64 needs QEMU binfmt)", "amd64,arm64")
    .option("--executors <list>", "runner executors to create and register", "shell,docker,kubernetes")
    .option("--state-dir <dir>", "where the tokens, the agentk manifest and settings.yaml go", LIVE_STATE_DIR)
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
        arches: opts.arch.split(","),
      });
      if (opts.dryRun) {
        const description = found ? `${found.implementation} ${found.version}` : "none found";
        process.stdout.write(`${formatPlan(plan, description)}\n\n`);
        process.stdout.write(
          missing.length ? `${formatMissing(missing)}\n` : "preflight: every prerequisite is here\n",
        );
        return;
      }
      if (missing.length) throw new UsageError(formatMissing(missing));
      const stateDir = resolve(opts.stateDir);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      // Loaded here: --dry-run and the other live commands start without gitbeaker.
      const { liveUp, publishedPorts } = await import("./up.ts");
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
        `settings: ${opts.stateDir}/settings.yaml; tokens are kept in ${result.stateFile} and ${stateDir} (0600)`,
      );
      log(`run the matrix: wsparity run --tier live --settings ${opts.stateDir}/settings.yaml`);
    });
  live
    .command("status")
    .description(
      "Each service of the live stack (state and health), and each runner's and the agent's connection as GitLab reports it (from the settings live up wrote).",
    )
    .option(
      "--settings <file>",
      "the tier settings live up (or live init) wrote",
      `${LIVE_STATE_DIR}/settings.yaml`,
    )
    .action(async (opts: { settings: string }) => {
      const { liveStatus } = await import("./status.ts");
      await liveStatus({
        compose: await composeClient(),
        plan: { file: COMPOSE_FILE, projectName: LIVE_PROJECT },
        settingsFile: resolve(opts.settings),
        out: (line) => process.stdout.write(`${line}\n`),
      });
    });
  live
    .command("down")
    .description(
      "Stop and remove the live stack's containers and network; --volumes also removes GitLab's and k3s's data.",
    )
    .option("--volumes", "also remove the named volumes (GitLab's next boot is a first boot again)")
    .action(async (opts: { volumes?: boolean }) => {
      const compose = await composeClient();
      await compose.down(
        { file: COMPOSE_FILE, projectName: LIVE_PROJECT, profiles: [...PROFILES, "live-setup"] },
        { volumes: Boolean(opts.volumes) },
      );
      process.stdout.write(
        `removed compose project ${LIVE_PROJECT}${opts.volumes ? " and its volumes" : ""}\n`,
      );
    });
}
