import { readdirSync, readFileSync } from "node:fs";

/** Open file descriptors of a process (Linux /proc). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

/** Polls until `pid` has at most `limit` fds; returns the last count (leaks show as a count above it). */
export async function settleFds(pid: number, limit: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = openFds(pid);
  while (count > limit && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    count = openFds(pid);
  }
  return count;
}
