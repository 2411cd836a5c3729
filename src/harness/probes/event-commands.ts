import { resolveCommands, type WorkspaceSpec } from "../../devfile/spec.ts";
import { execInWorkspace } from "./editor-client.ts";
import { createdFiles, existsScript } from "./observable-effects.ts";
import { type Probe, type ProbeOutcome, supported, unsupported } from "./probe.ts";

type Event = "preStart" | "postStart";

function observable(spec: WorkspaceSpec, event: Event) {
  const main = spec.containers.find((c) => c.main)?.name;
  return resolveCommands(spec, spec.events[event])
    .filter((c) => c.component === main)
    .map((command) => ({ command, files: createdFiles(command) }))
    .filter((c) => c.files.length > 0);
}

function eventProbe(event: Event): Probe {
  return {
    id: `event.${event}`,
    notApplicable(ctx) {
      if (ctx.spec.events[event].length === 0) return `the devfile has no ${event} event`;
      return observable(ctx.spec, event).length === 0
        ? `no ${event} command in the main container creates a file the probe could observe`
        : undefined;
    },
    async run({ ws, spec, timeoutMs }): Promise<ProbeOutcome> {
      const checks: string[] = [];
      let missing = 0;
      // postStart may still be running when the editor answers: wait up to half the probe's time.
      const tries = Math.max(1, Math.floor(timeoutMs / 2 / 250));
      for (const { command, files } of observable(spec, event)) {
        const out = await execInWorkspace(
          ws,
          `for i in $(seq 1 ${tries}); do (${existsScript(command, files)}) && exit 0; sleep 0.25; done; exit 1`,
          { timeoutMs },
        );
        if (out.exitCode !== 0) missing++;
        const verdict = out.exitCode === 0 ? "exists" : `missing after ${(tries / 4).toFixed(1)} s`;
        checks.push(`${command.id}: ${files.join(", ")} ${verdict}`);
      }
      return missing === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
    },
  };
}

export const eventPreStart = eventProbe("preStart");
export const eventPostStart = eventProbe("postStart");
