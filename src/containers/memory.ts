const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
};

/**
 * A memory size as Docker (`512m`, `1g`) or Kubernetes (`512Mi`, `1Gi`) writes it, in bytes. Both use
 * powers of 1024 here: Docker always does, and the devfile's Kubernetes-style limits mostly use the Ki/Mi/Gi forms.
 */
export function parseMemorySize(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`memory size ${value}: give a positive whole number of bytes`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = UNITS[match?.[2]?.toLowerCase() ?? "?"];
  if (!match || unit === undefined) {
    throw new Error(
      `memory size ${JSON.stringify(value)}: write a number with b, k, m, g (Docker) or Ki, Mi, Gi (Kubernetes)`,
    );
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (bytes <= 0 || !Number.isSafeInteger(bytes))
    throw new Error(`memory size ${JSON.stringify(value)} is out of range`);
  return bytes;
}
