// How the process kubelet turns a container spec into a host command: the pod's network namespace (joined through
// the sandbox), a private mount namespace with the volumes bound at their paths, then the container's user.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import { RESOURCE_TYPES } from "../resources.ts";
import type { ObjectStore } from "../store.ts";
import type { ContainerJson } from "./backend.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** The project's own folder: pods run its scripts (tools injector, idle process) from here. */
const REPO_ROOT = join(here, "../../../..");
export const SANDBOX_SCRIPT = join(here, "sandbox.mjs");
/** Holds the pseudo-terminal of an `exec -t` (see the script). */
export const PTY_RELAY = join(here, "pty-relay.py");
const TOOLS_INJECTOR_SCRIPT = join(here, "tools-injector.mjs");
const WORKSPACE_MAIN_SCRIPT = join(here, "workspace-main.mjs");
const TOOLS_IMAGE = /gitlab-workspaces-tools/;
/** wsparity's own tools image (the CI path's tools service): its /opt/wsparity holds the agent and the editor. */
export const WSPARITY_TOOLS_IMAGE = /^wsparity\/tools(:|$)/;
export const DEFAULT_PATH = `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

const CONFIG_MAP = RESOURCE_TYPES.find((r) => r.kind === "ConfigMap")!;
const SECRET = RESOURCE_TYPES.find((r) => r.kind === "Secret")!;

export interface ContainerCommand {
  argv: string[];
  /** Why the command differs from what the image would run, for the pod's events; undefined when it does not. */
  note?: string;
}

/** What the container runs. The image itself is never run by the process kubelet. */
export function containerCommand(c: ContainerJson): ContainerCommand {
  if (c.command?.length)
    return {
      argv: [...c.command, ...(c.args ?? [])],
      note: `image ${c.image} not run: ran its command on the host`,
    };
  if (c.args?.length)
    return {
      argv: [...c.args],
      note: `image ${c.image} not run and its entrypoint is unknown: ran args as the command`,
    };
  if (TOOLS_IMAGE.test(c.image ?? "")) {
    return {
      argv: [process.execPath, TOOLS_INJECTOR_SCRIPT],
      note: `image ${c.image} not run: the built-in tools injector installed the wsparity editor`,
    };
  }
  return {
    argv: [process.execPath, WORKSPACE_MAIN_SCRIPT],
    note: `image ${c.image} not run and its entrypoint is unknown: a built-in idle process runs in its place`,
  };
}

/**
 * Whether the container runs the built-in idle process in place of its image. Its declared ports can never
 * answer, so readiness falls back to Kubernetes' own rule without a readiness probe: ready once running.
 */
export function runsStandIn(c: ContainerJson): boolean {
  return containerCommand(c).argv[1] === WORKSPACE_MAIN_SCRIPT;
}

/** The container's environment: env, envFrom and valueFrom resolved, plus PATH, HOME and HOSTNAME defaults. */
export function containerEnv(store: ObjectStore, pod: KubeObject, c: ContainerJson): Record<string, string> {
  const ns = pod.metadata.namespace!;
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: "/tmp", HOSTNAME: pod.metadata.name };
  const data = (kind: typeof SECRET, name: string): Record<string, string> => {
    const o = store.find(kind, ns, name);
    if (!o) return {};
    if (kind === SECRET) {
      return Object.fromEntries(
        Object.entries((o.data ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          Buffer.from(v, "base64").toString(),
        ]),
      );
    }
    return o.data ?? {};
  };
  for (const from of c.envFrom ?? []) {
    const values = from.secretRef
      ? data(SECRET, from.secretRef.name)
      : from.configMapRef
        ? data(CONFIG_MAP, from.configMapRef.name)
        : {};
    for (const [k, v] of Object.entries(values)) env[`${from.prefix ?? ""}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(String(e.value), env);
    else if (e.valueFrom?.secretKeyRef)
      env[e.name] = data(SECRET, e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key] ?? "";
    else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = data(CONFIG_MAP, e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key] ?? "";
    } else if (e.valueFrom?.fieldRef) {
      let v: unknown = pod;
      for (const k of String(e.valueFrom.fieldRef.fieldPath).split("."))
        v = (v as ContainerJson | undefined)?.[k];
      env[e.name] = v === undefined ? "" : String(v);
    } else env[e.name] = "";
  }
  return env;
}

/** $(VAR) references in env values, as Kubernetes expands them. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => env[name] ?? m);
}

export interface Identity {
  uid?: number;
  gid: number;
}

export function identityOf(pod: KubeObject, c: ContainerJson): Identity {
  const uid = c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
  const gid = c.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup ?? 0;
  return { uid, gid };
}

/** setpriv arguments that drop to the container's user, or none for root. */
export function userArgs(id: Identity): string[] {
  if (id.uid === undefined || id.uid === 0) return [];
  return ["setpriv", `--reuid=${id.uid}`, `--regid=${id.gid}`, "--clear-groups", "--"];
}

export interface MountPlan {
  /** Host folder -> container path, in mount order. */
  binds: { source: string; target: string; readOnly: boolean }[];
  /** Host file -> container file, such as the pod's /etc/hosts. */
  files?: { source: string; target: string }[];
  /** The container's private /tmp. */
  tmp: string;
}

export function mountPlan(c: ContainerJson, volumes: Map<string, string>, tmp: string): MountPlan {
  const binds = (c.volumeMounts ?? [])
    .map((m: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }) => {
      const base = volumes.get(m.name);
      if (!base) throw new Error(`volume mount ${m.name} has no volume`);
      return {
        source: m.subPath ? join(base, m.subPath) : base,
        target: m.mountPath,
        readOnly: !!m.readOnly,
      };
    })
    .sort(
      (a: { target: string }, b: { target: string }) =>
        a.target.split("/").length - b.target.split("/").length,
    );
  return { binds, tmp };
}

/**
 * The pod's /etc/hosts when it declares hostAliases: the host's entries, then the aliases, as the kubelet
 * appends them ("# Entries added by HostAliases."). Undefined when the pod has none.
 */
export function podHostsFile(pod: KubeObject, hostEntries: string): string | undefined {
  const aliases = (pod.spec?.hostAliases ?? []) as { ip?: string; hostnames?: string[] }[];
  const lines = aliases
    .filter((a) => a.ip && a.hostnames?.length)
    .map((a) => `${a.ip}\t${a.hostnames!.join("\t")}`);
  if (lines.length === 0) return undefined;
  return `${hostEntries.trimEnd()}\n\n# Entries added by HostAliases.\n${lines.join("\n")}\n`;
}

/** Container paths that do not exist on the host yet: the mount namespace creates them as mount points. */
export function missingMountPoints(plan: MountPlan): string[] {
  const out: string[] = [];
  for (const b of plan.binds) {
    let p = b.target;
    while (p !== "/" && !existsSync(p)) {
      out.push(p);
      p = dirname(p);
    }
  }
  return out;
}

/** The host argv that starts `argv` as a container process (or an exec / hook inside a running one). */
export function launchArgv(opts: {
  sandboxPid: number;
  plan: MountPlan;
  identity: Identity;
  workingDir?: string;
  argv: string[];
  /** Host folders every container sees even where they are under its private /tmp (read-only). */
  sharedHostPaths?: string[];
}): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ["set -e"];
  // Anything that must appear under the container's /tmp (a volume mounted there, or the project itself
  // when it lives under the host's /tmp) is bound into the private tmp folder first, which then replaces
  // /tmp with its submounts: once /tmp is replaced, host paths under it can no longer be reached.
  const underTmp = (path: string) => path === "/tmp" || path.startsWith("/tmp/");
  const inPrivateTmp = (path: string) =>
    underTmp(path) ? join(opts.plan.tmp, path.slice("/tmp".length)) : path;
  const keep = [REPO_ROOT, ...(opts.sharedHostPaths ?? [])]
    .filter(underTmp)
    .map((path) => ({ source: path, target: path, readOnly: true }));
  for (const b of [...opts.plan.binds, ...keep]) {
    const target = inPrivateTmp(b.target);
    lines.push(`mkdir -p ${q(b.source)} ${q(target)}`, `mount --bind ${q(b.source)} ${q(target)}`);
    if (b.readOnly) lines.push(`mount -o remount,bind,ro ${q(target)}`);
  }
  for (const f of opts.plan.files ?? []) lines.push(`mount --bind ${q(f.source)} ${q(f.target)}`);
  lines.push(`mount --rbind ${q(opts.plan.tmp)} /tmp`);
  lines.push(`cd ${q(opts.workingDir ?? "/")} 2>/dev/null || cd /`);
  lines.push('exec "$@"');
  return [
    "nsenter",
    `--net=/proc/${opts.sandboxPid}/ns/net`,
    `--uts=/proc/${opts.sandboxPid}/ns/uts`,
    "--",
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    lines.join("\n"),
    "container",
    ...userArgs(opts.identity),
    ...opts.argv,
  ];
}

/** The host argv that runs `argv` inside a running container's namespaces (exec and lifecycle hooks). */
export function enterArgv(
  containerPid: number,
  identity: Identity,
  workingDir: string | undefined,
  argv: string[],
): string[] {
  return [
    "nsenter",
    "-t",
    String(containerPid),
    "-n",
    "-u",
    "-m",
    "--",
    ...userArgs(identity),
    "sh",
    "-c",
    'cd "$0" 2>/dev/null || cd /; exec "$@"',
    workingDir ?? "/",
    ...argv,
  ];
}
