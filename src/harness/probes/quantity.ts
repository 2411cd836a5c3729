const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A Kubernetes quantity (512Mi, 1G, 500m, 2) as a number of units; undefined when malformed. */
export function parseQuantity(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const scale = BINARY[m[2] ?? ""] ?? DECIMAL[m[2] ?? ""];
  return scale === undefined ? undefined : Number(m[1]) * scale;
}
