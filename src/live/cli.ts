// `wsparity live up|status|down`: the live tier's compose stack, with a preflight that names every missing
// prerequisite before anything starts, and a plan (`--dry-run`) of what would start and what the bootstrap does.
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import { BOOTSTRAP_STEPS } from "./bootstrap-steps.ts";
import { composeClient, detectCompose } from "./compose-client.ts";
import { COMPOSE_FILE, readComposeFile } from "./compose-file.ts";
import { type ComposeUpPlan, composeUpPlan, describeWait, LIVE_PROJECT } from "./compose-plan.ts";
import { registerLiveInit } from "./init-cli.ts";
import { formatMissing, preflight } from "./preflight.ts";

const PROFILES = ["live"];

interface UpOptions {
  profile: string;
  dryRun?: boolean;
  license?: string;
  arch: string;
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
      "Check the prerequisites, start docker-compose.yml's live profile and wait for each service; --dry-run prints the plan and the preflight only.",
    )
    .option("--profile <name>", "compose profile", "live")
    .option("--dry-run", "print what would start and the bootstrap that follows; start nothing")
    .option("--license <file>", "GitLab Premium or Ultimate licence file (env: WSPARITY_GITLAB_LICENSE)")
    .option("--arch <list>", "architectures the runs will cover (arm64 needs QEMU binfmt)", "amd64,arm64")
    .action(async (opts: UpOptions) => {
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
      const compose = await composeClient();
      process.stdout.write(`live up with ${compose.describe}\n`);
      const started = Date.now();
      await compose.up(plan, (line) => process.stdout.write(`  ${line}\n`));
      process.stdout.write(`every service is up after ${Math.round((Date.now() - started) / 1000)} s\n`);
    });
  live
    .command("status")
    .description("Each service of the live stack: state and health.")
    .action(async () => {
      const compose = await composeClient();
      const states = await compose.ps({ file: COMPOSE_FILE, projectName: LIVE_PROJECT });
      if (states.length === 0) {
        process.stdout.write(`no containers of compose project ${LIVE_PROJECT}: run wsparity live up\n`);
        return;
      }
      for (const s of states)
        process.stdout.write(`${s.service.padEnd(20)} ${s.state}${s.health ? ` (${s.health})` : ""}\n`);
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
