import type { ProbeContext } from "./probe.ts";

/** The sim tier runs containers as local processes: no images, cgroups, users or other architectures. */
export function simCannotShow(what: string) {
  return (ctx: ProbeContext): string | undefined =>
    ctx.tier === "sim"
      ? `the sim tier runs containers as local processes and cannot show ${what}; use --tier docker`
      : undefined;
}

/**
 * The sim tier's CI job pods are processes on the host's own root filesystem: a devfile mount path that is
 * not a pod volume (the job links volumes from its build folder) is the host's folder, shared by every
 * container and every run, so whatever is found there proves nothing about the executor.
 */
export function simJobPodPathsShared(ctx: ProbeContext): string | undefined {
  return ctx.tier === "sim" && ctx.path === "ci" && ctx.executor === "kubernetes"
    ? "on the sim tier a job pod's mount paths are the host's own folders (pods share its root filesystem), so sharing and persistence there prove nothing; use --tier docker"
    : undefined;
}
