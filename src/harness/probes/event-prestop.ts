import { resolveCommands, type WorkspaceSpec } from "../../devfile/spec.ts";
import { execInWorkspace } from "./editor-client.ts";
import { createdFiles, existsScript } from "./observable-effects.ts";
import { type RestartProbe, supported, unsupported } from "./probe.ts";

function observable(spec: WorkspaceSpec) {
  return resolveCommands(spec, spec.events.preStop)
    .map((command) => ({ command, files: createdFiles(command) }))
    .filter((c) => c.files.length > 0);
}

/** preStop commands ran when the workspace stopped: the files they create survive into the restarted workspace. */
export const eventPreStop: RestartProbe<null> = {
  id: "event.preStop",
  phase: "restart",
  notApplicable({ spec }) {
    if (spec.events.preStop.length === 0) return "the devfile has no preStop event";
    return observable(spec).length === 0
      ? "no preStop command creates a file the probe could observe"
      : undefined;
  },
  async prepare({ ws, spec }) {
    for (const { command, files } of observable(spec)) {
      await execInWorkspace(
        ws,
        `${command.workingDir ? `cd ${command.workingDir} 2>/dev/null; ` : ""}rm -f ${files.join(" ")}`,
      );
    }
    return null;
  },
  async verify({ ws, spec }, _state, restart) {
    if (!restart.ok) return unsupported(`the restart failed: ${restart.error}`);
    const checks: string[] = [];
    let missing = 0;
    for (const { command, files } of observable(spec)) {
      const out = await execInWorkspace(ws, existsScript(command, files));
      if (out.exitCode !== 0) missing++;
      checks.push(
        `${command.id}: ${files.join(", ")} ${out.exitCode === 0 ? "created by the stop" : "not created by the stop"}`,
      );
    }
    return missing === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
  },
};
