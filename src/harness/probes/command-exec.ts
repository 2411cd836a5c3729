import { type ExecCommandSpec, mainContainer, type WorkspaceSpec } from "../../devfile/spec.ts";
import { describeExec, type ExecOutput, execInWorkspace } from "./editor-client.ts";
import { inconclusive, type Probe, type ProbeOutcome, supported, unsupported } from "./probe.ts";

const shellQuote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;
const MARKER = "wsparity-exec-env";
const STILL_RUNNING = "wsparity-still-running\n";

/** The command in its own session, output captured, the session ended after `seconds`. */
function bounded(line: string, seconds: number): string {
  const ticks = seconds * 5;
  return [
    `out=$(mktemp); run=$(command -v setsid || true)`,
    `$run sh -c ${shellQuote(line)} >"$out" 2>&1 </dev/null & pid=$!`,
    `i=0; while kill -0 $pid 2>/dev/null && [ $i -lt ${ticks} ]; do sleep 0.2; i=$((i+1)); done`,
    `if kill -0 $pid 2>/dev/null; then kill -TERM -- -$pid 2>/dev/null || kill -TERM $pid; sleep 0.5; kill -KILL -- -$pid 2>/dev/null; printf '${STILL_RUNNING.trim()}\\n'; cat "$out"; rm -f "$out"; exit 124; fi`,
    `wait $pid; rc=$?; cat "$out"; rm -f "$out"; exit $rc`,
  ].join("\n");
}

/** The first exec command of the main container that no event runs: what a user runs from the editor. */
function userCommand(spec: WorkspaceSpec): ExecCommandSpec | undefined {
  const main = mainContainer(spec).name;
  const eventIds = new Set(
    Object.values(spec.events)
      .flat()
      .map((id) => id.toLowerCase()),
  );
  return spec.commands.find(
    (c): c is ExecCommandSpec => c.kind === "exec" && c.component === main && !eventIds.has(c.id),
  );
}

/**
 * What the command did, comparable across paths: exit code and first line of output, with the
 * working directory (which differs between paths: /projects, a runner's build folder) written as
 * <workingDir>.
 */
export function commandOutcome(out: ExecOutput, workingDir: string | undefined): string {
  const text = `${out.stderr}\n${out.stdout}`;
  const first = text.split("\n").find((line) => line.trim() !== "") ?? "";
  const normalised = (workingDir ? first.split(workingDir).join("<workingDir>") : first)
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>")
    .replace(/\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\b/g, "<time>")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 160);
  return `exit ${out.exitCode}${out.timedOut ? " (timed out)" : ""}${normalised ? `: ${normalised}` : ""}`;
}

/**
 * The mechanism (the editor runs a devfile command in the main container with its env and workingDir)
 * is checked with the probe's own command; the devfile's command is then run as written, and its
 * outcome — success or not — is what the paths are compared on: the same failure on both is parity.
 */
export const commandExec: Probe = {
  id: "command.exec",
  notApplicable: ({ spec }) =>
    userCommand(spec) ? undefined : "the devfile has no exec command for the main container",
  async run({ ws, spec, timeoutMs }) {
    const command = userCommand(spec)!;
    const env = command.env.map((e) => `export ${e.name}=${shellQuote(e.value)}; `).join("");
    const cd = command.workingDir ? `cd ${command.workingDir} && ` : "";
    const envShown = command.env.map((e) => `${e.name}=\${${e.name}}`).join(" ");
    const t0 = Date.now();
    const own = await execInWorkspace(ws, `${env}${cd}printf '${MARKER} %s %s' "$PWD" "${envShown}"`, {
      timeoutMs: Math.max(1000, Math.floor(timeoutMs / 4)),
    });
    const mechanism = checkMechanism(command, own);
    if (mechanism) return mechanism;
    const pwd = own.stdout.slice(own.stdout.indexOf(MARKER) + MARKER.length + 1).split(" ")[0];
    // A server the command starts runs until stopped, and its children hold the output open: it runs in
    // a session of its own that is ended within the probe's time; "still running then" is an outcome.
    const seconds = Math.max(1, Math.floor((timeoutMs - (Date.now() - t0) - 4000) / 1000));
    const out = await execInWorkspace(ws, bounded(`${env}${cd}${command.commandLine}`, seconds), {
      timeoutMs: (seconds + 3) * 1000,
    });
    if (out.stdout.startsWith(STILL_RUNNING)) {
      out.stdout = out.stdout.slice(STILL_RUNNING.length);
      out.timedOut = true;
    }
    const evidence = `command ${command.id} ran in ${pwd} with its env; ${describeExec(command.commandLine, out)}`;
    return { ...supported(evidence), outcome: commandOutcome(out, pwd) };
  },
};

function checkMechanism(command: ExecCommandSpec, own: ExecOutput): ProbeOutcome | undefined {
  const at = own.stdout.indexOf(MARKER);
  if (own.exitCode === 0 && at >= 0) {
    const seen = own.stdout.slice(at + MARKER.length + 1);
    const missing = command.env.filter((e) => !seen.includes(`${e.name}=${e.value}`));
    if (missing.length === 0) return undefined;
    return unsupported(
      `command ${command.id}: env ${missing.map((e) => e.name).join(", ")} not set as declared (saw ${JSON.stringify(seen.slice(0, 160))})`,
    );
  }
  if (command.workingDir && /can't cd|cd: .*(No such file|can't)/i.test(`${own.stderr}${own.stdout}`)) {
    return inconclusive(
      `command ${command.id}: ${describeExec(`cd ${command.workingDir}`, own)}`,
      `the command's workingDir ${command.workingDir} does not exist in the workspace: it needs project sources that are not there`,
    );
  }
  return unsupported(
    `command ${command.id}: the editor could not run a command in its context: ${describeExec("printf", own)}`,
  );
}
