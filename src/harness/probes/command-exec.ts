import { type ExecCommandSpec, mainContainer, type WorkspaceSpec } from "../../devfile/spec.ts";
import { describeExec, execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

const shellQuote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

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

export const commandExec: Probe = {
  id: "command.exec",
  notApplicable: ({ spec }) =>
    userCommand(spec) ? undefined : "the devfile has no exec command for the main container",
  async run({ ws, spec, timeoutMs }) {
    const command = userCommand(spec)!;
    const env = command.env.map((e) => `export ${e.name}=${shellQuote(e.value)}; `).join("");
    const cd = command.workingDir ? `cd ${command.workingDir} && ` : "";
    const line = `${env}${cd}${command.commandLine}`;
    const out = await execInWorkspace(ws, line, { timeoutMs });
    const evidence = `command ${command.id}: ${describeExec(command.commandLine, out)}`;
    return out.exitCode === 0 ? supported(evidence) : unsupported(evidence);
  },
};
