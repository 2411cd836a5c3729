// `wsparity devfile to-k8s FILE`: the objects GitLab's Kubernetes path creates for a devfile, as a YAML stream.
import type { Command } from "commander";
import { devfileCommand, parseRules, withVarOption } from "../devfile/cli.ts";
import { formatError, loadDevfile, UNREADABLE_RULE } from "../devfile/index.ts";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { workspaceManifest } from "./manifest.ts";
import { type DesiredState, defaultSettings, sanitizeName } from "./settings.ts";
import { toYamlStream } from "./yaml-stream.ts";

interface ToK8sOptions {
  rules?: string;
  name?: string;
  namespace?: string;
  dnsZone: string;
  agentId: string;
  workspaceId: string;
  desiredState: string;
  editor: boolean;
  env: Record<string, string>;
  file: Record<string, string>;
  var: Record<string, string>;
}

const DESIRED_STATES: DesiredState[] = ["Running", "RestartRequested", "Stopped", "Terminated"];

function collect(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new UsageError(`expected NAME=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerKubernetesCommands(program: Command): void {
  const toK8s = devfileCommand(program)
    .command("to-k8s")
    .description(
      "Print the Kubernetes objects GitLab's agent-for-Kubernetes path creates for a devfile (its Namespace, then GitLab's desired config), as a YAML stream for `kubectl apply --server-side -f -`.",
    )
    .argument("<file>", "devfile path")
    .option(
      "--rules <rules>",
      'validate with "default" (the devfile specification) or "gitlab" rules',
      "default",
    )
    .option("--name <name>", "workspace name (default: workspace-<devfile name>)")
    .option("--namespace <namespace>", "namespace (default: gl-rd-ns-<devfile name>)")
    .option("--dns-zone <zone>", "DNS zone of the workspace proxy", "workspaces.localhost")
    .option("--agent-id <id>", "agent id label value", "1")
    .option("--workspace-id <id>", "workspace id annotation value", "1")
    .option("--desired-state <state>", `one of ${DESIRED_STATES.join(", ")}`, "Running")
    .option("--no-editor", "do not inject the editor (tools injector, editor and SSH endpoints)")
    .option("--env <name=value>", "a user variable of type env (repeatable)", collect, {})
    .option("--file <name=value>", "a user variable of type file (repeatable)", collect, {});
  withVarOption(toK8s).action(async (file: string, opts: ToK8sOptions) => {
    const rules = parseRules(opts.rules);
    if (!DESIRED_STATES.includes(opts.desiredState as DesiredState)) {
      throw new UsageError(
        `--desired-state must be one of ${DESIRED_STATES.join(", ")}, got "${opts.desiredState}"`,
      );
    }
    const result = await loadDevfile(file, { rules, variables: opts.var });
    if (!result.ok) {
      for (const e of result.errors) process.stderr.write(`${formatError(e)}\n`);
      const message = `${file}: not a devfile the ${rules} rules accept (${result.errors.length} error(s)); fix it, then run to-k8s again`;
      if (result.errors.some((e) => e.rule === UNREADABLE_RULE)) throw new UsageError(message);
      throw new CheckFailed(message);
    }
    const base = sanitizeName(result.spec.name);
    const settings = defaultSettings(result.spec.name, {
      ...(opts.name ? { name: opts.name } : {}),
      namespace: opts.namespace ?? `gl-rd-ns-${base}`,
      dnsZone: opts.dnsZone,
      agentId: opts.agentId,
      workspaceId: opts.workspaceId,
      desiredState: opts.desiredState as DesiredState,
      injectEditor: opts.editor,
      userEnv: opts.env,
      userFiles: opts.file,
    });
    process.stdout.write(toYamlStream(workspaceManifest(result.spec, settings)));
  });
}
