// The devfile choices each executor cannot honour, decided from the spec alone (the generator adds the rows
// that depend on single env vars or commands). The gap report cites these rows as the reason for a verdict.

import { mainContainer, type WorkspaceSpec } from "../devfile/spec.ts";
import type { Executor, NotHonoured, PipelineOptions } from "./types.ts";

type Row = Omit<NotHonoured, "executor">;

export function notHonouredFor(spec: WorkspaceSpec, options: PipelineOptions): NotHonoured[] {
  const rows = [...commonRows(spec), ...byExecutor[options.executor](spec)];
  if (options.arch === "arm64" && options.executor === "shell") {
    rows.push({
      feature: "arch.arm64",
      subject: "workspace",
      status: "unsupported",
      reason:
        "the shell executor runs on the runner host's own architecture; arm64 needs an arm64 runner host",
    });
  }
  return rows.map((row) => ({ ...row, executor: options.executor }));
}

function hasResources(spec: WorkspaceSpec): boolean {
  return spec.containers.some((c) => c.memoryLimit || c.memoryRequest || c.cpuLimit || c.cpuRequest);
}

function commonRows(spec: WorkspaceSpec): Row[] {
  const rows: Row[] = [
    {
      feature: "workspace.variables",
      subject: "file variables",
      status: "degraded",
      reason:
        "a file variable is a file at a runner-chosen path named by $NAME, not a file in a fixed mounted folder",
    },
    {
      feature: "volume.persistent",
      subject: "workspace volumes",
      status: "degraded",
      reason:
        "volumes persist through the runner cache (when: always): stop asks the agent to exit, so the job ends by " +
        "itself and the runner archives .wsparity/volumes/ for the restart to restore. They are saved only then, " +
        "not as they are written: a job that is canceled (agent not answering, cancel in GitLab, a newer " +
        "interruptible pipeline), times out or loses its runner keeps nothing since the last save, and a restart " +
        "on another runner host finds nothing unless the runners share a distributed cache (the local cache is " +
        "per host). $PROJECTS_ROOT is the job's build folder and is not cached",
    },
    {
      feature: "project.source",
      subject: "sourceMapping",
      status: "degraded",
      reason:
        "the runner clones the project into $CI_PROJECT_DIR; PROJECT_SOURCE points there instead of under the sourceMapping",
    },
  ];
  const main = mainContainer(spec);
  if (main.attributes.overrideCommand !== false && (main.command?.length || main.args?.length)) {
    rows.push({
      feature: "container.command-args",
      subject: `component ${main.name}`,
      status: "degraded",
      reason:
        "the main container runs the job script; like GitLab's overrideCommand, its command and args are not run",
    });
  }
  for (const event of ["preStart", "postStop"] as const) {
    if (spec.events[event].length > 0) {
      rows.push({
        feature: event === "preStart" ? "event.preStart" : "event.preStop",
        subject: `${event} events`,
        status: "unsupported",
        reason: `a CI job has no ${event === "preStart" ? "init containers" : "step after the job ends"} to run them in`,
      });
    }
  }
  if (spec.volumes.some((v) => v.ephemeral)) {
    rows.push({
      feature: "volume.ephemeral",
      subject: "ephemeral volumes",
      status: "degraded",
      reason:
        "ephemeral volumes are folders in the build directory; they start empty only because they are kept out of the cache",
    });
  }
  for (const ignored of spec.ignoredComponents) {
    rows.push({
      feature: "container.image",
      subject: `component ${ignored.name}`,
      status: "unsupported",
      reason: `${ignored.type} components have no equivalent in a CI job`,
    });
  }
  return rows;
}

const byExecutor: Record<Executor, (spec: WorkspaceSpec) => Row[]> = {
  shell(spec) {
    const rows: Row[] = [
      {
        feature: "container.image",
        subject: "image",
        status: "unsupported",
        reason: "the shell executor has no image: the job runs on the runner host",
      },
      {
        feature: "container.user",
        subject: "workspace user",
        status: "unsupported",
        reason: "the job runs as the runner's user on the host",
      },
      {
        feature: "endpoint.internal",
        subject: "internal endpoints",
        status: "degraded",
        reason: "no isolation: a port bound by the job is reachable by every process on the runner host",
      },
      {
        feature: "network.egress-policy",
        subject: "egress",
        status: "unsupported",
        reason: "no isolation: the job has the runner host's network",
      },
      {
        feature: "volume.shared",
        subject: "volumes",
        status: "degraded",
        reason: "volumes are folders in the build directory; mount paths are not created on the host",
      },
    ];
    if (spec.containers.length > 1) {
      rows.push({
        feature: "container.multi",
        subject: "services",
        status: "unsupported",
        reason: "the shell executor ignores services: sidecar components do not run",
      });
    }
    if (hasResources(spec)) {
      rows.push({
        feature: "container.resources",
        subject: "resources",
        status: "unsupported",
        reason: "the shell executor sets no limits",
      });
    }
    return rows;
  },
  docker(spec) {
    const rows: Row[] = [
      {
        feature: "container.user",
        subject: "workspace user",
        status: "unsupported",
        reason: "the job runs as the image's user, not UID 5001",
      },
      {
        feature: "network.egress-policy",
        subject: "egress",
        status: "unsupported",
        reason: "the per-job Docker network allows all egress",
      },
    ];
    if (spec.containers.length > 1) {
      rows.push({
        feature: "container.multi",
        subject: "services",
        status: "degraded",
        reason: "sidecars are services on a per-job network: reachable by alias, not on localhost",
      });
    }
    if (spec.containers.some((c) => !c.main && c.volumeMounts.length > 0)) {
      rows.push({
        feature: "volume.shared",
        subject: "sidecar volumes",
        status: "unsupported",
        reason: "services cannot mount job-defined volumes; only the build volume is shared",
      });
    }
    if (hasResources(spec)) {
      rows.push({
        feature: "container.resources",
        subject: "resources",
        status: "unsupported",
        reason: "the docker executor's limits are runner-wide (config.toml), not per job",
      });
    }
    return rows;
  },
  kubernetes(spec) {
    const rows: Row[] = [
      {
        feature: "container.user",
        subject: "workspace user",
        status: "unsupported",
        reason: "the build container runs as the image's user, not UID 5001",
      },
      {
        feature: "network.egress-policy",
        subject: "egress",
        status: "unsupported",
        reason: "the runner creates no NetworkPolicy for job pods",
      },
    ];
    if (spec.containers.some((c) => !c.main && c.volumeMounts.length > 0)) {
      rows.push({
        feature: "volume.shared",
        subject: "sidecar volumes",
        status: "unsupported",
        reason: "services cannot mount job-defined volumes; only the build volume is shared",
      });
    }
    if (spec.containers.filter((c) => !c.main && (c.memoryLimit || c.cpuLimit)).length > 1) {
      rows.push({
        feature: "container.resources",
        subject: "sidecar resources",
        status: "degraded",
        reason: "one KUBERNETES_SERVICE_* setting covers every service; the largest sidecar figure is used",
      });
    }
    return rows;
  },
};
