// Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=) as list and watch use them.
import type { KubeObject } from "../../kubernetes/objects.ts";
import { badRequest } from "./errors.ts";

export type Selector = (o: KubeObject) => boolean;

type LabelRequirement =
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "exists" | "!exists"; key: string };

export function parseLabelSelector(text: string | null | undefined): Selector {
  if (!text?.trim()) return () => true;
  const reqs: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ op: m[2] as "in" | "notin", key: m[1]!, values: m[3]!.split(",").map((v) => v.trim()) });
    } else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      reqs.push({ op: m[2] === "!=" ? "!=" : "=", key: m[1]!, value: m[3]! });
    } else if ((m = p.match(/^!([\w./-]+)$/))) {
      reqs.push({ op: "!exists", key: m[1]! });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      reqs.push({ op: "exists", key: m[1]! });
    } else {
      throw badRequest(`unable to parse requirement: "${p}" in label selector "${text}"`);
    }
  }
  return (o) => {
    const labels = o.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case "=":
          return has && v === r.value;
        case "!=":
          return !has || v !== r.value;
        case "in":
          return has && r.values.includes(v!);
        case "notin":
          return !has || !r.values.includes(v!);
        case "exists":
          return has;
        case "!exists":
          return !has;
      }
    });
  };
}

export function parseFieldSelector(text: string | null | undefined): Selector {
  if (!text?.trim()) return () => true;
  const reqs = text.split(",").map((part) => {
    const m = part.trim().match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector: "${part}"`);
    return { path: m[1]!.split("."), negate: m[2] === "!=", value: m[3]! };
  });
  return (o) =>
    reqs.every((r) => {
      // biome-ignore lint/suspicious/noExplicitAny: walking arbitrary JSON
      let v: any = o;
      for (const k of r.path) v = v?.[k];
      const equal = String(v ?? "") === r.value;
      return r.negate ? !equal : equal;
    });
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function matchLabels(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
