import type { ProbeContext } from "./probe.ts";

/** The sim tier runs containers as local processes: no images, cgroups, users or other architectures. */
export function simCannotShow(what: string) {
  return (ctx: ProbeContext): string | undefined =>
    ctx.tier === "sim"
      ? `the sim tier runs containers as local processes and cannot show ${what}; use --tier docker`
      : undefined;
}
