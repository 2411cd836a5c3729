import { resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../util/errors.ts";
import { formatTable, runTunnelBench } from "./run.ts";
import { MODES, type ModeName } from "./setup.ts";

interface BenchFlags {
  json?: boolean;
  modes: string;
  requests: string;
  warmup: string;
  bulkMib: string;
  rounds: string;
  cpuProf?: string;
  baseline?: string;
  streams: string;
  streamMib: string;
  wsMessages: string;
  connects: string;
  scale: boolean;
  idleAgents: string;
  streamAgents: string;
  streamsTotal: string;
}

const positive = (value: string, flag: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${value}: expected a positive integer`);
  return n;
};

export function registerTunnelBenchCommands(program: Command): void {
  const bench =
    program.commands.find((c) => c.name() === "bench") ??
    program.command("bench").description("Benchmarks that print figures.");
  bench
    .command("tunnel")
    .description(
      "Measure the tunnel against direct loopback and OpenSSH's ssh -R with the same target, in interleaved rounds: latency (HDR), single-stream throughput with curl and with node, 64-stream throughput, WebSocket echo, connection setup; ratios per round, medians and spreads, the load average before and after. Progress goes to stderr.",
    )
    .option("--json", "print the report as JSON instead of a table")
    .option("--modes <list>", `modes to run, comma list of ${MODES.join(",")}`, MODES.join(","))
    .option("--requests <n>", "keep-alive requests for latency, after warm-up", "10000")
    .option("--warmup <n>", "warm-up requests", "1000")
    .option("--bulk-mib <n>", "MiB per single-stream download and upload", "128")
    .option(
      "--baseline <dir>",
      "another checkout with node_modules (e.g. git worktree add /tmp/base main) whose tunnel-tls is measured in the same rounds as mode baseline: a change's before and after",
    )
    .option(
      "--cpu-prof <dir>",
      "write CPU profiles of every tunnel server and agent into <dir> and summarize them",
    )
    .option(
      "--rounds <n>",
      "interleaved rounds: every measurement against every mode in turn, per round",
      "5",
    )
    .option("--streams <n>", "concurrent streams for aggregate throughput", "64")
    .option("--stream-mib <n>", "MiB per concurrent stream", "8")
    .option("--ws-messages <n>", "WebSocket echo round trips", "2000")
    .option("--connects <n>", "new connections for setup time", "200")
    .option("--no-scale", "skip the idle-agent memory and concurrent-stream figures")
    .option("--idle-agents <n>", "idle agents connected to one server for the memory figure", "1000")
    .option("--stream-agents <n>", "agents carrying the concurrent streams", "100")
    .option("--streams-total <n>", "concurrent streams held open at once", "10000")
    .action(async (flags: BenchFlags) => {
      const modes = flags.modes.split(",").map((m) => m.trim()) as ModeName[];
      const unknown = modes.filter((m) => !MODES.includes(m));
      if (unknown.length > 0)
        throw new UsageError(`--modes: unknown ${unknown.join(", ")}; choose from ${MODES.join(", ")}`);
      const report = await runTunnelBench({
        modes,
        requests: positive(flags.requests, "--requests"),
        warmup: positive(flags.warmup, "--warmup"),
        bulkBytes: positive(flags.bulkMib, "--bulk-mib") * 1024 * 1024,
        rounds: positive(flags.rounds, "--rounds"),
        ...(flags.cpuProf ? { cpuProfDir: flags.cpuProf } : {}),
        ...(flags.baseline ? { baselineRoot: resolve(flags.baseline) } : {}),
        concurrentStreams: positive(flags.streams, "--streams"),
        concurrentBytesEach: positive(flags.streamMib, "--stream-mib") * 1024 * 1024,
        wsMessages: positive(flags.wsMessages, "--ws-messages"),
        connects: positive(flags.connects, "--connects"),
        scale: flags.scale
          ? {
              idleAgents: positive(flags.idleAgents, "--idle-agents"),
              streamAgents: positive(flags.streamAgents, "--stream-agents"),
              streams: positive(flags.streamsTotal, "--streams-total"),
            }
          : null,
        progress: (line) => process.stderr.write(`bench tunnel: ${line}\n`),
      });
      if (report.load.busy) process.stderr.write(`bench tunnel: WARNING: ${report.load.note}\n`);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report));
    });
}
