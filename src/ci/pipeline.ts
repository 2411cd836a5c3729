// WorkspaceSpec → .gitlab-ci.yml with one long-running workspace job (docs/ci-path.md explains each choice).
// Devfile strings never become script text: they travel as CI variables (literal, `expand: false`) or as
// bash words quoted by shell-quote.ts, so a devfile cannot inject YAML keys or shell commands.

import { Document } from "yaml";
import {
  type ContainerSpec,
  type EndpointSpec,
  mainContainer,
  resolveCommands,
  type WorkspaceSpec,
} from "../devfile/spec.ts";
import { notHonouredFor } from "./not-honoured.ts";
import { isShellVariableName, shellPathWord, shellQuote } from "./shell-quote.ts";
import type { GeneratedPipeline, NotHonoured, PipelineOptions } from "./types.ts";
import { TOOLS_SERVICE_SCRIPT, WORKSPACE_AFTER_SCRIPT, WORKSPACE_SCRIPT } from "./workspace-script.ts";

export const JOB_NAME = "workspace";
export const STAGE_NAME = "workspace";
export const EDITOR_PORT = 60001;
export const DEFAULT_TIMEOUT = "24h";
export const DEFAULT_TOOLS_IMAGE = "wsparity/tools:latest";
export const TOOLS_SERVICE_ALIAS = "wsparity-tools";
/** Where volumes live inside the project dir: `cache:paths` may only name paths there. */
export const VOLUMES_DIR = ".wsparity/volumes";
/** Where ephemeral volumes live: outside the cached folder, emptied when the job starts. */
export const EPHEMERAL_VOLUMES_DIR = ".wsparity/ephemeral";

/** Prefixes that belong to GitLab, the runner or this project; a devfile env var must not shadow them. */
const RESERVED_PREFIXES = ["CI_", "GITLAB_", "WSPARITY_", "FF_", "KUBERNETES_", "DOCKER_"];

type CiVariable = string | { value: string; expand: false };

/** A value the runner must pass on exactly: GitLab expands `$NAME` in variable values unless told not to. */
function literal(value: string): CiVariable {
  return value.includes("$") ? { value, expand: false } : value;
}

/** A string that is a valid DNS label, for service aliases and cache keys. */
export function dnsLabel(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return label === "" ? "x" : label;
}

export function generatePipeline(spec: WorkspaceSpec, options: PipelineOptions): GeneratedPipeline {
  const { executor, arch } = options;
  const notes: NotHonoured[] = [];
  const note = (feature: string, subject: string, status: NotHonoured["status"], reason: string) =>
    notes.push({ feature, executor, subject, status, reason });

  const main = mainContainer(spec);
  const sidecars = spec.containers.filter((c) => c !== main);
  const aliases = new Map(sidecars.map((c) => [c.name, dnsLabel(c.name)]));

  const variables: Record<string, CiVariable> = {
    WSPARITY_WORKSPACE: literal(spec.name),
    WSPARITY_PORTS: tunnelPorts(main, sidecars, executor, note).join(","),
    WSPARITY_EDITOR_PORT: String(EDITOR_PORT),
    // The agent dials out and forwards from loopback, so nothing needs to listen on other interfaces.
    WSPARITY_EDITOR_HOST: "127.0.0.1",
    PROJECT_SOURCE: "$CI_PROJECT_DIR",
    PROJECTS_ROOT: "$CI_BUILDS_DIR",
    WSPARITY_LINK_VOLUMES: executor === "shell" ? "false" : "true",
  };
  // Shell jobs share the runner host's ports: the job gives its editor a free one (see the workspace script).
  if (executor === "shell") variables.WSPARITY_EDITOR_FREE_PORT = "true";
  if (executor === "docker") variables.FF_NETWORK_PER_BUILD = "true";

  for (const env of usableEnv(main, "container.env", note)) variables[env.name] = literal(env.value);

  // Ephemeral volumes stay out of the cache: a restart (a stop that saves the cache) must find them empty.
  const ephemeral = new Set(spec.volumes.filter((v) => v.ephemeral).map((v) => v.name));
  const volumeLines = (wanted: boolean) =>
    main.volumeMounts
      .filter((m) => ephemeral.has(m.name) === wanted)
      .map((m) => `${dnsLabel(m.name)}=${m.path}`);
  const persistentLines = volumeLines(false);
  if (persistentLines.length > 0) variables.WSPARITY_VOLUMES = literal(persistentLines.join("\n"));
  const ephemeralLines = volumeLines(true);
  if (ephemeralLines.length > 0) variables.WSPARITY_EPHEMERAL_VOLUMES = literal(ephemeralLines.join("\n"));

  const overrideCommand = main.attributes.overrideCommand !== false;
  const mainWords = [...(main.command ?? []), ...(main.args ?? [])];
  if (!overrideCommand && mainWords.length > 0) {
    variables.WSPARITY_MAIN_COMMAND = literal(mainWords.map(shellQuote).join(" "));
  }

  Object.assign(variables, kubernetesResources(main, sidecars));

  const postStart = eventScript(spec, "postStart", main, options, note);
  if (postStart) variables.WSPARITY_POST_START = literal(postStart);
  const preStop = eventScript(spec, "preStop", main, options, note);
  if (preStop) variables.WSPARITY_PRE_STOP = literal(preStop);

  const image: Record<string, unknown> = { name: main.image, entrypoint: [""] };
  if (arch === "arm64" && executor === "docker") image.docker = { platform: "linux/arm64" };

  const services: Record<string, unknown>[] = [
    {
      name: options.toolsImage ?? DEFAULT_TOOLS_IMAGE,
      alias: TOOLS_SERVICE_ALIAS,
      command: ["sh", "-c", TOOLS_SERVICE_SCRIPT],
      variables: { WSPARITY_TOOLS_TARGET: "$CI_BUILDS_DIR/.wsparity-tools" },
    },
  ];
  for (const sidecar of sidecars) services.push(serviceFor(sidecar, aliases.get(sidecar.name)!, note));

  const job: Record<string, unknown> = {
    stage: STAGE_NAME,
    image,
    services,
    variables,
    script: [...WORKSPACE_SCRIPT],
    after_script: [...WORKSPACE_AFTER_SCRIPT],
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
    interruptible: true,
    tags: ["wsparity", `executor-${executor}`, `arch-${arch}`],
    cache: {
      key: `wsparity-workspace-${dnsLabel(options.workspace ?? spec.name)}`,
      paths: [`${VOLUMES_DIR}/`],
      when: "always",
    },
    rules: [{ if: '$CI_PIPELINE_SOURCE == "api"', when: "always" }, { when: "never" }],
  };

  const config: Record<string, unknown> = { stages: [STAGE_NAME], [JOB_NAME]: job };
  const document = new Document(config);
  document.commentBefore =
    ` Generated by wsparity from the devfile of workspace ${oneLine(spec.name)}` +
    ` for the ${executor} executor on ${arch}.\n Started through the pipelines API with WSPARITY_TUNNEL_URL and WSPARITY_TOKEN_FILE.`;
  const yaml = document.toString({ lineWidth: 0 });

  notes.push(...notHonouredFor(spec, options));
  return { workspace: spec.name, executor, arch, yaml, config, notHonoured: notes };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029\u0085]+/g, " ");
}

/**
 * Ports the agent forwards from the job's loopback: the editor, the main container's public endpoints and,
 * where services share the job's network namespace (kubernetes executor), the sidecars' public endpoints.
 */
function tunnelPorts(
  main: ContainerSpec,
  sidecars: ContainerSpec[],
  executor: PipelineOptions["executor"],
  note: (feature: string, subject: string, status: NotHonoured["status"], reason: string) => void,
): string[] {
  const ports = [String(EDITOR_PORT)];
  const isPublic = (e: EndpointSpec) => e.exposure === "public";
  for (const e of main.endpoints.filter(isPublic)) ports.push(String(e.targetPort));
  for (const sidecar of sidecars) {
    for (const e of sidecar.endpoints.filter(isPublic)) {
      if (executor === "kubernetes") ports.push(String(e.targetPort));
      else {
        note(
          endpointFeature(e),
          `endpoint ${e.name} of component ${sidecar.name}`,
          "unsupported",
          executor === "shell"
            ? "the shell executor does not run sidecar components"
            : "the agent forwards ports on the job container's loopback; a service's port is only on its alias",
        );
      }
    }
  }
  return [...new Set(ports)];
}

function endpointFeature(endpoint: EndpointSpec): string {
  if (endpoint.protocol === "tcp" || endpoint.protocol === "udp") return "endpoint.tcp";
  if (endpoint.protocol === "ws" || endpoint.protocol === "wss") return "endpoint.websocket";
  return "endpoint.http";
}

function usableEnv(
  container: ContainerSpec,
  feature: string,
  note: (feature: string, subject: string, status: NotHonoured["status"], reason: string) => void,
) {
  return container.env.filter((env) => {
    if (!isShellVariableName(env.name)) {
      note(
        feature,
        `env ${JSON.stringify(env.name)} of component ${container.name}`,
        "unsupported",
        "not a shell variable name: the runner cannot export it, so the generator drops it",
      );
      return false;
    }
    const reserved = RESERVED_PREFIXES.find((p) => env.name.startsWith(p));
    if (reserved) {
      note(
        feature,
        `env ${env.name} of component ${container.name}`,
        "unsupported",
        `names starting with ${reserved} belong to GitLab, the runner or wsparity; the generator drops it`,
      );
      return false;
    }
    return true;
  });
}

function serviceFor(
  sidecar: ContainerSpec,
  alias: string,
  note: (feature: string, subject: string, status: NotHonoured["status"], reason: string) => void,
): Record<string, unknown> {
  const service: Record<string, unknown> = { name: sidecar.image, alias };
  if (sidecar.command && sidecar.command.length > 0) service.entrypoint = sidecar.command;
  if (sidecar.args && sidecar.args.length > 0) service.command = sidecar.args;
  const env = usableEnv(sidecar, "container.env", note);
  if (env.length > 0) service.variables = Object.fromEntries(env.map((e) => [e.name, literal(e.value)]));
  return service;
}

/** KUBERNETES_* overwrite variables: honoured by the kubernetes executor when the runner allows overwrites. */
function kubernetesResources(main: ContainerSpec, sidecars: ContainerSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value) out[key] = value;
  };
  set("KUBERNETES_MEMORY_LIMIT", main.memoryLimit);
  set("KUBERNETES_MEMORY_REQUEST", main.memoryRequest);
  set("KUBERNETES_CPU_LIMIT", main.cpuLimit);
  set("KUBERNETES_CPU_REQUEST", main.cpuRequest);
  // One setting covers every service container, so the largest sidecar figure wins.
  const largest = (pick: (c: ContainerSpec) => string | undefined) =>
    sidecars
      .map(pick)
      .filter((v): v is string => Boolean(v))
      .sort((a, b) => quantity(b) - quantity(a))[0];
  set(
    "KUBERNETES_SERVICE_MEMORY_LIMIT",
    largest((c) => c.memoryLimit),
  );
  set(
    "KUBERNETES_SERVICE_MEMORY_REQUEST",
    largest((c) => c.memoryRequest),
  );
  set(
    "KUBERNETES_SERVICE_CPU_LIMIT",
    largest((c) => c.cpuLimit),
  );
  set(
    "KUBERNETES_SERVICE_CPU_REQUEST",
    largest((c) => c.cpuRequest),
  );
  return out;
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity as a number, for comparing two of the same kind. */
export function quantity(text: string): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(text.trim());
  if (!match) return 0;
  return Number(match[1]) * (QUANTITY_SUFFIXES[match[2] ?? ""] ?? 1);
}

/**
 * The bash text for one devfile event. Each command line runs as its own `bash -c` argument in a subshell,
 * so a command cannot change the surrounding script; a failing command is reported and the next one runs.
 */
function eventScript(
  spec: WorkspaceSpec,
  event: "postStart" | "preStop",
  main: ContainerSpec,
  options: PipelineOptions,
  note: (feature: string, subject: string, status: NotHonoured["status"], reason: string) => void,
): string {
  const feature = event === "postStart" ? "event.postStart" : "event.preStop";
  const lines: string[] = [];
  for (const command of resolveCommands(spec, spec.events[event])) {
    if (command.component !== main.name) {
      if (options.executor !== "shell") {
        note(
          feature,
          `command ${command.id}`,
          "unsupported",
          `runs in component ${command.component}, a service container: the job script cannot exec into services`,
        );
        continue;
      }
      note(
        feature,
        `command ${command.id}`,
        "degraded",
        `runs on the runner host, not in component ${command.component}'s image (the shell executor has no containers)`,
      );
    }
    const parts: string[] = [];
    if (command.workingDir) parts.push(`cd ${shellPathWord(command.workingDir)} || exit 1`);
    for (const env of command.env) {
      if (isShellVariableName(env.name)) parts.push(`export ${env.name}=${shellQuote(env.value)}`);
      else
        note(
          feature,
          `env ${JSON.stringify(env.name)} of command ${command.id}`,
          "unsupported",
          "not a shell variable name",
        );
    }
    parts.push(`exec bash -c ${shellQuote(command.commandLine)}`);
    const label = shellQuote(`${event} command ${command.id}`);
    lines.push(`echo "wsparity: running "${label}`);
    lines.push(`( ${parts.join("; ")} ) || echo "wsparity: "${label}" exited $?" >&2`);
  }
  for (const id of spec.events[event]) {
    if (resolveCommands(spec, [id]).length === 0) {
      note(
        feature,
        `command ${id}`,
        "unsupported",
        "not an exec command (or composite of them): nothing to run in a job",
      );
    }
  }
  return lines.join("\n");
}
