// `wsparity run --shard i/n`: a stable slice of the matrix, so parts run on many machines merge into one report.
import { UsageError } from "../util/errors.ts";
import type { PlannedCell } from "./matrix.ts";

export interface Shard {
  /** 1-based, as `--shard 2/3` and GitLab's CI_NODE_INDEX/CI_NODE_TOTAL count. */
  index: number;
  total: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index < 1 || index > total)
    throw new UsageError(`--shard wants i/n with 1 ≤ i ≤ n, e.g. 2/3; got "${value}"`);
  return { index, total };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.total}`;
}

/**
 * The Kubernetes cell a CI cell is measured and judged against (same arch, else amd64, else the first),
 * named as "<scenario>/<arch>": the unit a shard takes whole, so each part carries its CI cells' reference.
 */
function referenceGroup(cell: PlannedCell, planned: readonly PlannedCell[]): string {
  const refs = planned.filter((c) => c.path === "kubernetes" && c.scenario.name === cell.scenario.name);
  const arch =
    cell.path === "kubernetes"
      ? cell.arch
      : ((refs.find((r) => r.arch === cell.arch) ?? refs.find((r) => r.arch === "amd64") ?? refs[0])?.arch ??
        cell.arch);
  return `${cell.scenario.name}/${arch}`;
}

/**
 * The cells of shard i of n: reference groups (a scenario's Kubernetes cell with the CI cells judged
 * against it) dealt round-robin in matrix order. Stable: the same matrix always splits the same way,
 * and the shards 1..n together hold every cell exactly once.
 */
export function shardCells(planned: readonly PlannedCell[], shard: Shard): PlannedCell[] {
  const groups: string[] = [];
  for (const cell of planned) {
    const group = referenceGroup(cell, planned);
    if (!groups.includes(group)) groups.push(group);
  }
  return planned.filter(
    (cell) => groups.indexOf(referenceGroup(cell, planned)) % shard.total === shard.index - 1,
  );
}
