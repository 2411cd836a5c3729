import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";

// Turns a parsed YAML document into plain data in one walk, limiting what makes YAML dangerous: alias
// expansion (billion laughs) and nesting depth. It replaces yaml's toJS, which costs as much as parsing.

export type PlainOutcome =
  | { ok: true; value: unknown }
  | { ok: false; reason: "alias-bomb" | "too-deep" | "unknown-alias"; node: Node | undefined };

class Refusal {
  constructor(
    readonly reason: "alias-bomb" | "too-deep" | "unknown-alias",
    readonly node: Node | undefined,
  ) {}
}

interface Anchored {
  value: unknown;
  /** How many alias expansions this node's value contains. */
  weight: number;
}

export function toPlain(doc: Document, maxAliases: number, maxDepth: number): PlainOutcome {
  const anchors = new Map<string, Anchored>();
  let budget = maxAliases;
  // Alias expansions inside the node being converted, so an anchor knows what it costs to repeat.
  let weight = 0;

  const convert = (node: unknown, depth: number): unknown => {
    if (depth > maxDepth) throw new Refusal("too-deep", node as Node);
    if (isAlias(node)) {
      const anchored = anchors.get(node.source);
      if (!anchored) throw new Refusal("unknown-alias", node);
      const cost = 1 + anchored.weight;
      budget -= cost;
      weight += cost;
      if (budget < 0) throw new Refusal("alias-bomb", node);
      return anchored.value;
    }
    const before = weight;
    let value: unknown;
    if (isScalar(node)) {
      value = node.value;
    } else if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const explicit = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
          mergeInto(out, explicit, convert(pair.value, depth + 1));
          continue;
        }
        const key = keyOf(pair.key, depth);
        out[key] = pair.value === null ? null : convert(pair.value, depth + 1);
        explicit.add(key);
      }
      value = out;
    } else if (isSeq(node)) {
      value = node.items.map((item) => convert(item, depth + 1));
    } else {
      value = node === null || node === undefined ? null : node;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) anchors.set(anchor, { value, weight: weight - before });
    return value;
  };

  const keyOf = (key: unknown, depth: number): string => {
    if (isScalar(key)) return String(key.value);
    if (key === null || key === undefined) return "";
    return JSON.stringify(convert(key, depth + 1));
  };

  try {
    return { ok: true, value: convert(doc.contents, 0) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.reason, node: err.node };
    if (err instanceof RangeError) return { ok: false, reason: "too-deep", node: undefined };
    throw err;
  }
}

/** YAML 1.1 merge keys (`<<: *base`): keys given explicitly in the map win over merged ones. */
function mergeInto(out: Record<string, unknown>, explicit: Set<string>, source: unknown): void {
  const sources = Array.isArray(source) ? source : [source];
  for (const s of sources) {
    if (!s || typeof s !== "object" || Array.isArray(s)) continue;
    for (const [k, v] of Object.entries(s)) if (!explicit.has(k) && !(k in out)) out[k] = v;
  }
}
