// The job pod of the kubernetes executor, as gitlab-runner lays it out: a `build` container from the job's
// image, a `helper` container that moves files in and out, and `svc-N` containers for services, all
// sharing the build volume at /builds and the pod's network (services answer on localhost and, through
// hostAliases, on their aliases). Resources come from the KUBERNETES_* overwrite variables, within the
// limits the runner's config allows.

import { hostname } from "node:os";
import type { V1Container, V1Pod, V1ResourceRequirements } from "@kubernetes/client-node";
import { dnsLabel, quantity } from "../../ci/pipeline.ts";
import type { JobPayload } from "../api-client.ts";
import { expandValue } from "../variables.ts";

export const BUILDS = "/builds";
export const JOB_LABEL = "io.wsparity.ci-job";
export const RUNNER_LABEL = "io.wsparity.ci-runner";
export const RUNNER_PID_LABEL = "io.wsparity.ci-runner-pid";
export const RUNNER_HOST_LABEL = "io.wsparity.ci-runner-host";
const VOLUME = "repo";

/** Stays up until the pod is deleted, and exits at once on SIGTERM (PID 1 ignores it otherwise). */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

export interface PodSettings {
  namespace: string;
  /** The runner's config name, for the runner label. */
  runnerName: string;
  defaultImage: string;
  helperImage: string;
  nodeSelector: Record<string, string>;
  /** cpu_limit_overwrite_max_allowed and friends: an overwrite without its maximum is ignored, as gitlab-runner does. */
  overwriteMaxAllowed: Partial<Record<OverwriteKey, string>>;
}

export type OverwriteKey =
  | "cpu_limit"
  | "cpu_request"
  | "memory_limit"
  | "memory_request"
  | "service_cpu_limit"
  | "service_cpu_request"
  | "service_memory_limit"
  | "service_memory_request";

export class OverwriteNotAllowed extends Error {
  readonly failureReason = "script_failure";
}

export interface JobPodPlan {
  pod: V1Pod;
  /** What the trace should say about choices made (ignored overwrites, resources applied). */
  notes: string[];
}

export function jobPod(
  job: JobPayload,
  env: Record<string, string>,
  settings: PodSettings,
  podName: string,
): JobPodPlan {
  const notes: string[] = [];
  const mounts = [{ name: VOLUME, mountPath: BUILDS }];
  const envList = (vars: Record<string, string>) =>
    Object.entries(vars).map(([name, value]) => ({ name, value }));
  const build: V1Container = {
    name: "build",
    image: job.image?.name || settings.defaultImage,
    imagePullPolicy: "IfNotPresent",
    command: IDLE,
    env: envList(env),
    workingDir: BUILDS,
    volumeMounts: mounts,
    resources: resources(env, "", settings, notes),
  };
  const helper: V1Container = {
    name: "helper",
    image: settings.helperImage,
    imagePullPolicy: "IfNotPresent",
    command: IDLE,
    workingDir: BUILDS,
    volumeMounts: mounts,
  };
  const serviceResources = resources(env, "service_", settings, notes);
  const aliases = new Set<string>();
  const services = (job.services ?? []).map((service, index): V1Container => {
    const vars = { ...env };
    for (const v of service.variables ?? [])
      vars[v.key] = v.raw ? v.value : expandValue(v.value, (k) => vars[k]);
    for (const alias of (service.alias ?? "").split(/[\s,]+/).filter(Boolean)) aliases.add(alias);
    return {
      name: `svc-${index}`,
      image: service.name,
      imagePullPolicy: "IfNotPresent",
      ...(service.entrypoint?.length ? { command: service.entrypoint } : {}),
      ...(service.command?.length ? { args: service.command } : {}),
      env: envList(vars),
      volumeMounts: mounts,
      resources: serviceResources,
    };
  });
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName,
      namespace: settings.namespace,
      labels: {
        [JOB_LABEL]: String(job.id),
        [RUNNER_LABEL]: dnsLabel(settings.runnerName),
        [RUNNER_HOST_LABEL]: dnsLabel(hostname()),
        [RUNNER_PID_LABEL]: String(process.pid),
        "project.runner.gitlab.com/id": String(job.job_info.project_id),
      },
    },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 0,
      ...(Object.keys(settings.nodeSelector).length > 0 ? { nodeSelector: settings.nodeSelector } : {}),
      ...(aliases.size > 0 ? { hostAliases: [{ ip: "127.0.0.1", hostnames: [...aliases] }] } : {}),
      volumes: [{ name: VOLUME, emptyDir: {} }],
      containers: [build, helper, ...services],
    },
  };
  return { pod, notes };
}

/** KUBERNETES_[SERVICE_]{CPU,MEMORY}_{LIMIT,REQUEST} → resources, each within its *_overwrite_max_allowed. */
function resources(
  env: Record<string, string>,
  prefix: "" | "service_",
  settings: PodSettings,
  notes: string[],
): V1ResourceRequirements {
  const out: { limits: Record<string, string>; requests: Record<string, string> } = {
    limits: {},
    requests: {},
  };
  for (const resource of ["cpu", "memory"] as const) {
    for (const kind of ["limit", "request"] as const) {
      const key = `${prefix}${resource}_${kind}` as OverwriteKey;
      const variable = `KUBERNETES_${key.toUpperCase()}`;
      const wanted = env[variable];
      if (!wanted) continue;
      const max = settings.overwriteMaxAllowed[key];
      if (!max) {
        notes.push(`${variable}=${wanted} ignored: the runner sets no ${key}_overwrite_max_allowed`);
        continue;
      }
      if (quantity(wanted) > quantity(max)) {
        throw new OverwriteNotAllowed(
          `${variable}=${wanted} is more than the runner allows (${key}_overwrite_max_allowed = ${max})`,
        );
      }
      (kind === "limit" ? out.limits : out.requests)[resource] = wanted;
    }
  }
  return {
    ...(Object.keys(out.limits).length > 0 ? { limits: out.limits } : {}),
    ...(Object.keys(out.requests).length > 0 ? { requests: out.requests } : {}),
  };
}
