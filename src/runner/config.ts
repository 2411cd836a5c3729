// Runner configuration in gitlab-runner's config.toml format (runners/*.toml), with ${VAR} and
// ${VAR:-default} taken from the environment so one file serves every machine.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import type { ExecutorName } from "./executor.ts";
import type { OverwriteKey } from "./executors/kubernetes-pod.ts";

export interface RunnerFileConfig {
  file: string;
  concurrent: number;
  /** gitlab-runner's global shutdown_timeout: how long a forceful shutdown (SIGTERM, SIGINT) may take, seconds. */
  shutdownTimeoutSeconds: number;
  name: string;
  url: string;
  token: string;
  executor: ExecutorName;
  /** linux/amd64 or linux/arm64: from the docker platform or kubernetes node selector, else this host's. */
  arch: "amd64" | "arm64";
  buildsDir: string;
  cacheDir: string;
  environment: Record<string, string>;
  docker?: { image?: string; platform?: string };
  kubernetes?: KubernetesRunnerConfig;
}

export interface KubernetesRunnerConfig {
  namespace?: string;
  image?: string;
  helperImage?: string;
  nodeSelector?: Record<string, string>;
  /** The cluster: host, bearer_token and ca_file as gitlab-runner takes them; else KUBECONFIG or in-cluster. */
  host?: string;
  bearerToken?: string;
  caFile?: string;
  pollTimeoutSeconds?: number;
  overwriteMaxAllowed: Partial<Record<OverwriteKey, string>>;
}

const OVERWRITE_KEYS: OverwriteKey[] = [
  "cpu_limit",
  "cpu_request",
  "memory_limit",
  "memory_request",
  "service_cpu_limit",
  "service_cpu_request",
  "service_memory_limit",
  "service_memory_request",
];

export class RunnerConfigError extends Error {}

export function substituteEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== "") return value;
      if (fallback !== undefined) return fallback;
      return `\${${name}}`;
    },
  );
}

const hostArch = (): "amd64" | "arm64" => (process.arch === "arm64" ? "arm64" : "amd64");

export function loadRunnerConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  overrides: { url?: string; token?: string } = {},
): RunnerFileConfig {
  let document: Record<string, unknown>;
  try {
    document = parse(substituteEnv(readFileSync(file, "utf8"), env)) as Record<string, unknown>;
  } catch (err) {
    throw new RunnerConfigError(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const runners = document.runners;
  if (!Array.isArray(runners) || runners.length !== 1) {
    throw new RunnerConfigError(
      `${file}: needs exactly one [[runners]] section, found ${Array.isArray(runners) ? runners.length : 0}`,
    );
  }
  const r = runners[0] as Record<string, unknown>;
  const field = (name: string, value: unknown): string => {
    if (typeof value !== "string" || value === "" || value.includes("${")) {
      throw new RunnerConfigError(
        `${file}: [[runners]] ${name} is ${value === undefined ? "missing" : JSON.stringify(value)}: set it in the file, its environment variable, or pass --${name}`,
      );
    }
    return value;
  };
  const executor = field("executor", r.executor);
  if (!["shell", "docker", "kubernetes"].includes(executor)) {
    throw new RunnerConfigError(`${file}: executor "${executor}" is not one of shell, docker, kubernetes`);
  }
  const environment: Record<string, string> = {};
  for (const entry of (r.environment as unknown[] | undefined) ?? []) {
    const text = String(entry);
    const eq = text.indexOf("=");
    if (eq <= 0)
      throw new RunnerConfigError(`${file}: environment entry ${JSON.stringify(text)} is not NAME=value`);
    environment[text.slice(0, eq)] = text.slice(eq + 1);
  }
  const docker = r.docker as { image?: string; platform?: string } | undefined;
  const k8s = r.kubernetes as Record<string, unknown> | undefined;
  const nodeSelector = k8s?.node_selector as Record<string, string> | undefined;
  const platformArch = docker?.platform?.split("/")[1] ?? nodeSelector?.["kubernetes.io/arch"];
  const arch = platformArch === "arm64" || platformArch === "amd64" ? platformArch : hostArch();
  return {
    file,
    concurrent: Number(document.concurrent ?? 1),
    shutdownTimeoutSeconds: shutdownTimeout(file, document.shutdown_timeout),
    name: field("name", r.name),
    url: overrides.url ?? field("url", r.url),
    token: overrides.token ?? field("token", r.token),
    executor: executor as ExecutorName,
    arch,
    buildsDir: field("builds_dir", r.builds_dir),
    cacheDir: field("cache_dir", r.cache_dir),
    environment,
    ...(docker ? { docker: { image: docker.image, platform: docker.platform } } : {}),
    ...(k8s ? { kubernetes: kubernetesSection(file, k8s, nodeSelector) } : {}),
  };
}

/** gitlab-runner's default is 30 s; 0 or less means the default there too. */
function shutdownTimeout(file: string, value: unknown): number {
  if (value === undefined) return 30;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new RunnerConfigError(
      `${file}: shutdown_timeout must be a number of seconds, got ${JSON.stringify(value)}`,
    );
  return value > 0 ? value : 30;
}

function kubernetesSection(
  file: string,
  k8s: Record<string, unknown>,
  nodeSelector: Record<string, string> | undefined,
): KubernetesRunnerConfig {
  const text = (key: string): string | undefined => {
    const value = k8s[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.includes("${"))
      throw new RunnerConfigError(
        `${file}: [runners.kubernetes] ${key} must be a string, got ${JSON.stringify(value)}`,
      );
    return value;
  };
  const overwriteMaxAllowed: Partial<Record<OverwriteKey, string>> = {};
  for (const key of OVERWRITE_KEYS) {
    const value = text(`${key}_overwrite_max_allowed`);
    if (value !== undefined) overwriteMaxAllowed[key] = value;
  }
  const poll = k8s.poll_timeout;
  if (poll !== undefined && (typeof poll !== "number" || poll <= 0))
    throw new RunnerConfigError(
      `${file}: [runners.kubernetes] poll_timeout must be a number of seconds, got ${JSON.stringify(poll)}`,
    );
  return {
    namespace: text("namespace"),
    image: text("image"),
    helperImage: text("helper_image"),
    nodeSelector,
    host: text("host"),
    bearerToken: text("bearer_token"),
    caFile: text("ca_file"),
    pollTimeoutSeconds: poll as number | undefined,
    overwriteMaxAllowed,
  };
}

/** The tags `sim up` registers a runner of this config with, matching the generator's job tags. */
export function runnerTags(config: Pick<RunnerFileConfig, "executor" | "arch">): string[] {
  return ["wsparity", `executor-${config.executor}`, `arch-${config.arch}`];
}

/** The project's own config for an executor and architecture, `runners/<executor>-<arch>.toml`, for in-process runners. */
export function shippedRunnerConfig(executor: ExecutorName, arch: "amd64" | "arm64"): RunnerFileConfig {
  const file = fileURLToPath(new URL(`../../runners/${executor}-${arch}.toml`, import.meta.url));
  return loadRunnerConfig(file, process.env, { url: "http://in-process.invalid", token: "in-process" });
}
