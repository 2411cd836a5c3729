import {
  type ApplyCommandSpec,
  type ExecCommandSpec,
  resolveCommands,
  type WorkspaceSpec,
} from "../../devfile/spec.ts";
import { execInWorkspace } from "./editor-client.ts";
import { createdFiles, existsScript } from "./observable-effects.ts";
import { type Probe, type ProbeOutcome, supported, unsupported } from "./probe.ts";
import { simJobPodPathsShared } from "./sim-tier.ts";

type Event = "preStart" | "postStart";

/**
 * Event commands whose effect the main container can see: exec commands in the main container, and
 * apply commands (init containers) whose command line writes into a volume the main container mounts
 * at the same path.
 */
function observable(spec: WorkspaceSpec, event: Event): { command: ExecCommandSpec; files: string[] }[] {
  const main = spec.containers.find((c) => c.main);
  if (!main) return [];
  const execs = resolveCommands(spec, spec.events[event]).filter((c) => c.component === main.name);
  const applies = spec.commands
    .filter(
      (c): c is ApplyCommandSpec =>
        c.kind === "apply" && spec.events[event].some((id) => id.toLowerCase() === c.id),
    )
    .flatMap((c) => {
      const container = spec.containers.find((k) => k.name === c.component);
      if (!container) return [];
      const shared = container.volumeMounts.filter((m) =>
        main.volumeMounts.some((n) => n.name === m.name && n.path === m.path),
      );
      const asExec: ExecCommandSpec = {
        kind: "exec",
        id: c.id,
        component: c.component,
        commandLine: [...(container.command ?? []), ...(container.args ?? [])].join(" "),
        env: [],
        hotReloadCapable: false,
      };
      return [{ command: asExec, shared: shared.map((m) => m.path) }];
    });
  return [
    ...execs.map((command) => ({ command, files: createdFiles(command) })),
    ...applies.map(({ command, shared }) => ({
      command,
      files: createdFiles(command).filter((f) => shared.some((dir) => f.startsWith(`${dir}/`))),
    })),
  ].filter((c) => c.files.length > 0);
}

function eventProbe(event: Event): Probe {
  return {
    id: `event.${event}`,
    notApplicable(ctx) {
      if (ctx.spec.events[event].length === 0) return `the devfile has no ${event} event`;
      if (observable(ctx.spec, event).length === 0)
        return `no ${event} command creates a file the main container could observe`;
      // preStart effects are seen through a volume another container shares.
      return event === "preStart" ? simJobPodPathsShared(ctx) : undefined;
    },
    async run({ ws, spec, timeoutMs, startedAtMs }): Promise<ProbeOutcome> {
      const checks: string[] = [];
      let missing = 0;
      // postStart may still be running when the editor answers: wait up to half the probe's time.
      const tries = Math.max(1, Math.floor(timeoutMs / 2 / 250));
      for (const { command, files } of observable(spec, event)) {
        const out = await execInWorkspace(
          ws,
          `for i in $(seq 1 ${tries}); do (${existsScript(command, files, startedAtMs)}) && exit 0; sleep 0.25; done; exit 1`,
          { timeoutMs },
        );
        if (out.exitCode !== 0) missing++;
        const verdict =
          out.exitCode === 0
            ? "written since the start"
            : `not written since the start (waited ${(tries / 4).toFixed(1)} s)`;
        checks.push(`${command.id}: ${files.join(", ")} ${verdict}`);
      }
      return missing === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
    },
  };
}

export const eventPreStart = eventProbe("preStart");
export const eventPostStart = eventProbe("postStart");
