import { Command, CommanderError } from "commander";
import { registerAgentCommands } from "./agent/cli.ts";
import { registerCiCommands } from "./ci/cli.ts";
import { registerDevfileCommands } from "./devfile/cli.ts";
import { registerDevfileSummaryCommand } from "./devfile/run-validate.ts";
import { registerRunCommand } from "./harness/cli.ts";
import { registerImagesCommands } from "./images/index.ts";
import { registerKubernetesCommands } from "./kubernetes/cli.ts";
import { registerReportCommands } from "./report/cli.ts";
import { registerSimCommands } from "./sim/up.ts";
import { registerRunnerCommands } from "./runner/cli.ts";
import { registerTunnelBenchCommands } from "./tunnel/bench/cli.ts";
import { registerTunnelCommands } from "./tunnel/cli.ts";
import { CheckFailed, EXIT_FAILED, EXIT_USAGE, UsageError } from "./util/errors.ts";

export function buildProgram(): Command {
  const program = new Command("wsparity")
    .description("Launch one devfile through GitLab's Kubernetes path and CI-runner path, and report the gaps.")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true });
  registerDevfileCommands(program);
  registerKubernetesCommands(program);
  registerSimCommands(program);
  registerCiCommands(program);
  registerRunnerCommands(program);
  registerDevfileSummaryCommand(program);
  registerRunCommand(program);
  registerReportCommands(program);
  registerImagesCommands(program);
  registerTunnelCommands(program);
  registerAgentCommands(program);
  registerTunnelBenchCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
    process.stderr.write(`wsparity: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILED;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/bin/wsparity.js")) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
