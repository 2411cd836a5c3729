// The shell executor: bash on the runner host in a per-job build folder. No image, no services, no
// isolation: a job sees the host's users, network and ports (docs/ci-path.md lists what that costs).

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Executor, type JobContext, type StageRun, signalledStage } from "../executor.ts";

const PGID_FILE = ".wsparity-pgids";

export class ShellExecutor implements Executor {
  readonly name = "shell" as const;
  readonly features = { image: false, services: false };
  readonly sourcesOnHost = true;
  readonly architecture = process.arch === "x64" ? "amd64" : process.arch;

  buildsDirInJob(hostBuildDir: string): string {
    return hostBuildDir;
  }

  async prepare(ctx: JobContext): Promise<void> {
    ctx.output(`Preparing the "shell" executor\nUsing Shell (bash) executor...\n`);
    if (ctx.job.image?.name) ctx.output(`The shell executor ignores image ${ctx.job.image.name}\n`);
    for (const service of ctx.job.services ?? [])
      ctx.output(`The shell executor ignores service ${service.name}\n`);
  }

  runStage(ctx: JobContext, stage: string, script: string): StageRun {
    const file = join(ctx.buildDir, `.script-${stage}.sh`);
    writeFileSync(file, script, { mode: 0o700 });
    // Its own process group, so stopping the stage also stops everything it started in the background.
    const child = spawn("bash", ["--noprofile", "--norc", file], {
      cwd: ctx.buildDir,
      env: ctx.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pgid = child.pid;
    if (pgid) writeFileSync(join(ctx.buildDir, PGID_FILE), `${pgid}\n`, { flag: "a" });
    child.stdout.on("data", (chunk: Buffer) => ctx.output(chunk));
    child.stderr.on("data", (chunk: Buffer) => ctx.output(chunk));
    const killGroup = (signal: NodeJS.Signals) => {
      if (!pgid) return;
      try {
        process.kill(-pgid, signal);
      } catch {
        // The group is gone already.
      }
    };
    const done = new Promise<number>((resolve) => {
      child.on("error", (err) => {
        ctx.output(`wsparity-runner: cannot start bash: ${err.message}\n`);
        resolve(1);
      });
      // Background processes the script left behind would hold its output open: stop them when it exits.
      child.on("exit", () => killGroup("SIGKILL"));
      child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber[signal] ?? 15) : 1)));
    });
    return signalledStage(done, (name) => killGroup(`SIG${name}`));
  }

  async cleanup(ctx: JobContext): Promise<void> {
    killRecordedGroups(ctx.buildDir);
    rmSync(ctx.buildDir, { recursive: true, force: true });
  }

  async recover(buildsRoot: string): Promise<string[]> {
    if (!existsSync(buildsRoot)) return [];
    const cleaned: string[] = [];
    for (const entry of readdirSync(buildsRoot)) {
      const dir = join(buildsRoot, entry);
      if (!existsSync(join(dir, PGID_FILE))) continue;
      killRecordedGroups(dir);
      rmSync(dir, { recursive: true, force: true });
      cleaned.push(dir);
    }
    return cleaned;
  }
}

const signalNumber: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

function killRecordedGroups(buildDir: string): void {
  const file = join(buildDir, PGID_FILE);
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const pgid = Number(line);
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
