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
  for (const part of splitTopLevel(text)) reqs.push(parseRequirement(part.trim(), text));
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
        default:
          return !has;
      }
    });
  };
}

function parseRequirement(p: string, text: string): LabelRequirement {
  const set = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/);
  if (set)
    return { op: set[2] as "in" | "notin", key: set[1]!, values: set[3]!.split(",").map((v) => v.trim()) };
  const equality = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/);
  if (equality) return { op: equality[2] === "!=" ? "!=" : "=", key: equality[1]!, value: equality[3]! };
  const absent = p.match(/^!([\w./-]+)$/);
  if (absent) return { op: "!exists", key: absent[1]! };
  const present = p.match(/^([\w./-]+)$/);
  if (present) return { op: "exists", key: present[1]! };
  throw badRequest(`unable to parse requirement: "${p}" in label selector "${text}"`);
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
