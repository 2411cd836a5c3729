import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { CheckFailed, EXIT_FAILED, EXIT_USAGE, UsageError } from "./util/errors.ts";

type Registrar = (program: Command) => void;
type Loader = () => Promise<Registrar>;

const devfile: Loader = async () => (await import("./devfile/cli.ts")).registerDevfileCommands;
const devfileSummary: Loader = async () =>
  (await import("./devfile/run-validate.ts")).registerDevfileSummaryCommand;
const toK8s: Loader = async () => (await import("./kubernetes/cli.ts")).registerKubernetesCommands;
const ci: Loader = async () => (await import("./ci/cli.ts")).registerCiCommands;
const run: Loader = async () => (await import("./harness/cli.ts")).registerRunCommand;
const report: Loader = async () => (await import("./report/cli.ts")).registerReportCommands;
const sim: Loader = async () => (await import("./sim/up.ts")).registerSimCommands;
const simKubernetes: Loader = async () =>
  (await import("./sim/kubernetes/cli.ts")).registerSimKubernetesCommand;
const runner: Loader = async () => (await import("./runner/cli.ts")).registerRunnerCommands;
const images: Loader = async () => (await import("./images/index.ts")).registerImagesCommands;
const tunnel: Loader = async () => (await import("./tunnel/cli.ts")).registerTunnelCommands;
const agent: Loader = async () => (await import("./agent/cli.ts")).registerAgentCommands;
const agentk: Loader = async () => (await import("./agentk/cli.ts")).registerAgentkCommands;
const tunnelBench: Loader = async () => (await import("./tunnel/bench/cli.ts")).registerTunnelBenchCommands;
const workspacesProxy: Loader = async () =>
  (await import("./workspaces-proxy/cli.ts")).registerWorkspacesProxyCommand;
const live: Loader = async () => (await import("./live/cli.ts")).registerLiveCommands;

/**
 * Which modules define each top-level command. Only the modules of the command being run are loaded,
 * so `wsparity gate …` does not pay for the Kubernetes client; help for the whole CLI loads them all.
 */
const COMMAND_MODULES: Record<string, Loader[]> = {
  devfile: [devfile, devfileSummary, toK8s, ci],
  run: [run],
  compare: [report],
  gate: [report],
  merge: [report],
  sim: [sim, simKubernetes],
  runner: [runner],
  images: [images],
  tunnel: [tunnel],
  agent: [agent],
  agentk: [agentk],
  bench: [tunnelBench, ci],
  live: [live],
  "workspaces-proxy": [workspacesProxy],
};
const ALL_MODULES = [...new Set(Object.values(COMMAND_MODULES).flat())];

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command("wsparity")
    .description(
      "Launch one devfile through GitLab's Kubernetes path and CI-runner path, and report the gaps.",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true });
  const first = argv.find((a) => !a.startsWith("-"));
  const loaders = (first && COMMAND_MODULES[first]) || ALL_MODULES;
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      if (err.code === "commander.help") return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`wsparity: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CheckFailed) {
      process.stderr.write(`wsparity: ${err.message}\n`);
      return EXIT_FAILED;
    }
    process.stderr.write(
      `wsparity: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT_FAILED;
  }
}

/** Whether this module is the program node started (`tsx src/cli.ts`, as `npm start` does), through any symlink. */
function isEntryModule(): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryModule()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
