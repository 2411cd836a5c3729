import type { Report } from "./model.ts";

export interface Headline {
  /** One line: parity over what was compared, comparable checks, gaps, inconclusive. */
  counts: string;
  /** The gap section's lead when there are no gaps: never "everything matches" when nothing was compared. */
  noGaps: string;
  /** Why checks were not comparable, biggest cause first (empty when every check was). */
  notComparable: string[];
}

export function headline(report: Report): Headline {
  const s = report.summary;
  const environment = report.cells.filter((c) => c.status === "environment");
  const why = [
    ...s.notComparable,
    ...(environment.length > 0
      ? [
          `${environment.length} cell(s) could not start for a reason of the environment, not of either path (first: ${environment[0]!.reason})`,
        ]
      : []),
  ];
  const counts =
    s.comparable === 0
      ? `0 comparable checks${why.length > 0 ? `: ${why[0]}` : ""} · ${s.gaps} gaps · ${s.inconclusive} inconclusive`
      : `Parity ${s.parityPct}% (${s.compared} checks the reference supports) · ${s.comparable} comparable checks · ${s.gaps} gaps · ${s.inconclusive} inconclusive`;
  const noGaps =
    s.comparable === 0
      ? `No gaps found, because nothing was compared${why.length > 0 ? `: ${why.join("; ")}` : ""}.`
      : `None: all ${s.comparable} comparable checks match the Kubernetes reference.`;
  return { counts, noGaps, notComparable: why };
}
