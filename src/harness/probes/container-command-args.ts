import { describeExec, execInWorkspace } from "./editor-client.ts";
import { inconclusive, type Probe, supported, unsupported } from "./probe.ts";

// Lists every process's argv as NUL-joined fields, one process per line, from /proc.
const LIST_PROCESSES = `for f in /proc/[0-9]*/cmdline; do tr '\\0' '\\1' < "$f" 2>/dev/null; echo; done`;

export const containerCommandArgs: Probe = {
  id: "container.command-args",
  notApplicable: ({ spec }) =>
    spec.containers.some((c) => c.main && (c.command || c.args))
      ? undefined
      : "the main container declares neither command nor args",
  async run({ ws, spec }) {
    const main = spec.containers.find((c) => c.main)!;
    const wanted = [...(main.command ?? []), ...(main.args ?? [])];
    const out = await execInWorkspace(ws, LIST_PROCESSES);
    if (out.exitCode !== 0) return unsupported(describeExec("list /proc/*/cmdline", out));
    const processes = out.stdout
      .split("\n")
      .map((line) =>
        withoutEmulator(line.split("\u0001").filter((a, i, all) => a !== "" || i < all.length - 1)),
      );
    // With only args, the image's entrypoint comes first: match the declared argv as a suffix.
    const match = processes.find((argv) =>
      main.command
        ? wanted.every((a, i) => argv[i] === a) && argv.length === wanted.length
        : wanted.every((a, i) => argv[argv.length - wanted.length + i] === a),
    );
    const shown = JSON.stringify(wanted);
    if (match)
      return {
        ...supported(
          `a process runs ${JSON.stringify(match)}, matching the declared ${main.command ? "command+args" : "args"} ${shown}`,
        ),
        outcome: "running",
      };
    const seen = `no process in the main container runs ${shown} (${processes.length} processes seen)`;
    // A declared command that started and exited (its payload failed, e.g. without project sources)
    // leaves no process either: only when nothing of the main container is left can that be ruled out.
    const exe = main.command?.[0];
    if (!exe) return unsupported(seen);
    const found = await execInWorkspace(ws, `command -v ${shellWord(exe)}`);
    return found.exitCode === 0
      ? {
          ...inconclusive(
            `${seen}; ${exe} is at ${found.stdout.trim()}`,
            `the declared command may have started and exited (its own payload deciding, e.g. project sources that are not there): a process list cannot tell that from a command never started`,
          ),
          outcome: "not running",
        }
      : unsupported(`${seen}; ${exe} is not in the main container`);
  },
};

/**
 * A foreign-architecture process runs under QEMU's binfmt interpreter, whose /proc cmdline is
 * [interpreter, program path, the program's own argv…] (binfmt flag P): the program's argv is what ran.
 */
export function withoutEmulator(argv: string[]): string[] {
  return /\/qemu-[\w-]*(binfmt|static)/.test(argv[0] ?? "") && argv.length >= 3 ? argv.slice(2) : argv;
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
