import type { ErrorObject } from "ajv";
import { describeField, escapePointerSegment } from "./errors.ts";

/** A schema violation in plain words, before it is located in a file. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

interface Working {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
  /** Already turned into words (a collapsed oneOf). */
  text?: SchemaProblem;
}

/**
 * Ajv reports every failed branch of every oneOf. Devfile schemas use oneOf to pick a component or command type,
 * so a single mistake produces a dozen "must have required property" lines. This keeps the branch the data
 * meant (the one whose discriminating key it has), or says which keys it may have, and words each error.
 */
export function explainSchemaErrors(errors: readonly ErrorObject[]): SchemaProblem[] {
  let work: Working[] = errors.map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    params: e.params as Record<string, unknown>,
    schema: e.schema,
    parentSchema: e.parentSchema as Record<string, unknown> | undefined,
    data: e.data,
  }));
  const choices = work
    .filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf")
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const choice of choices) {
    const branchPrefix = `${choice.schemaPath}/`;
    const children = work.filter((e) => e !== choice && e.schemaPath.startsWith(branchPrefix));
    const replacement = collapseChoice(choice, children);
    work = work.filter((e) => e !== choice && !children.includes(e));
    work.push(...replacement);
  }
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const e of work) {
    const problem = e.text ?? word(e);
    const key = `${problem.pointer}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out.sort((a, b) => a.pointer.localeCompare(b.pointer));
}

function branchKeys(branches: unknown): string[][] {
  if (!Array.isArray(branches)) return [];
  return branches.map((b) =>
    b && typeof b === "object" && Array.isArray((b as { required?: unknown }).required)
      ? ((b as { required: string[] }).required ?? [])
      : [],
  );
}

function collapseChoice(choice: Working, children: Working[]): Working[] {
  const keys = branchKeys(choice.schema);
  const names = keys.map((k) => k.join(" + ")).filter((k) => k !== "");
  const where = describeField(choice.instancePath);
  const value = choice.data;
  const passing = choice.params.passingSchemas;
  if (Array.isArray(passing) && passing.length > 1) {
    const both = passing.map((i: number) => names[i] ?? `#${i}`);
    return [
      textAt(
        choice,
        choice.instancePath,
        `${where} must set exactly one of ${names.join(", ")}; it sets ${both.join(" and ")}: keep one`,
      ),
    ];
  }
  // The branch the data meant: the one whose discriminating keys are all present.
  const present =
    value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value as object) : undefined;
  if (present) {
    const meant = keys.findIndex((k) => k.length > 0 && k.every((key) => present.includes(key)));
    if (meant >= 0) {
      const prefix = `${choice.schemaPath}/${meant}/`;
      const fromBranch = children.filter((c) => c.schemaPath.startsWith(prefix));
      if (fromBranch.length > 0) return fromBranch;
      return [textAt(choice, choice.instancePath, `${where} is not valid as '${names[meant]}'`)];
    }
  }
  if (names.length > 0 && keys.every((k) => k.length > 0)) {
    return [textAt(choice, choice.instancePath, `${where} must have one of: ${names.join(", ")}`)];
  }
  // Branches without a discriminating key: report the branch with the fewest problems.
  const byBranch = new Map<string, Working[]>();
  for (const c of children) {
    const branch = c.schemaPath.slice(choice.schemaPath.length + 1).split("/")[0] ?? "";
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), c]);
  }
  const best = [...byBranch.values()].sort((a, b) => a.length - b.length)[0];
  return best ?? [textAt(choice, choice.instancePath, `${where} does not match any allowed form`)];
}

function textAt(from: Working, pointer: string, message: string): Working {
  return { ...from, text: { pointer, message } };
}

function article(type: string): string {
  switch (type) {
    case "string":
      return "a string";
    case "array":
      return "a list";
    case "object":
      return "a map (key: value)";
    case "integer":
      return "a whole number";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "null":
      return "empty";
    default:
      return type;
  }
}

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `the string ${JSON.stringify(truncate(value))}`;
  if (typeof value === "boolean") return `${value}`;
  return `${typeof value} ${String(value)}`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const QUANTITY_EXAMPLES: Record<string, string> = {
  memoryLimit: "512Mi",
  memoryRequest: "256Mi",
  cpuLimit: "500m",
  cpuRequest: "100m",
  size: "1Gi",
};

const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

function describePattern(pattern: string, field: string): string {
  if (pattern === NAME_PATTERN) {
    return "must be lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. my-component)";
  }
  if (field.endsWith("schemaVersion")) return "must be a version such as 2.2.0";
  return `must match the pattern ${pattern}`;
}

function word(e: Working): SchemaProblem {
  const where = describeField(e.instancePath);
  const p = e.params;
  switch (e.keyword) {
    case "type": {
      const quantity = QUANTITY_EXAMPLES[e.instancePath.split("/").pop() ?? ""];
      if (quantity && p.type === "string") {
        return {
          pointer: e.instancePath,
          message: `${where} must be a quantity such as ${quantity}, written as a string, not ${kindOf(e.data)}`,
        };
      }
      const types = String(p.type).split(",").map(article).join(" or ");
      return { pointer: e.instancePath, message: `${where} must be ${types}, not ${kindOf(e.data)}` };
    }
    case "required": {
      const missing = String(p.missingProperty);
      return {
        pointer: `${e.instancePath}/${escapePointerSegment(missing)}`,
        message: `${where} is missing the required field '${missing}'`,
      };
    }
    case "additionalProperties": {
      const extra = String(p.additionalProperty);
      const allowed = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
      const guess = closest(extra, allowed);
      const hint = guess
        ? `: did you mean '${guess}'?`
        : allowed.length > 0
          ? ` (allowed: ${allowed.join(", ")})`
          : "";
      return {
        pointer: `${e.instancePath}/${escapePointerSegment(extra)}`,
        message: `${where} has an unknown field '${extra}'${hint}`,
      };
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]).map((v) => String(v)).join(", ");
      return {
        pointer: e.instancePath,
        message: `${where} must be one of ${allowed}, not ${kindOf(e.data)}`,
      };
    }
    case "pattern":
      return {
        pointer: e.instancePath,
        message: `${where} ${describePattern(String(p.pattern), where)}, not ${kindOf(e.data)}`,
      };
    case "maxLength":
      return {
        pointer: e.instancePath,
        message: `${where} must be at most ${p.limit} characters long (it has ${typeof e.data === "string" ? e.data.length : "more"})`,
      };
    case "minLength":
      return { pointer: e.instancePath, message: `${where} must be at least ${p.limit} characters long` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return {
        pointer: e.instancePath,
        message: `${where} must be ${p.comparison} ${p.limit}, not ${kindOf(e.data)}`,
      };
    case "minItems":
      return { pointer: e.instancePath, message: `${where} must have at least ${p.limit} item(s)` };
    case "maxItems":
      return { pointer: e.instancePath, message: `${where} must have at most ${p.limit} item(s)` };
    case "uniqueItems":
      return {
        pointer: e.instancePath,
        message: `${where} must not repeat items (items ${p.j} and ${p.i} are equal)`,
      };
    case "const":
      return { pointer: e.instancePath, message: `${where} must be ${JSON.stringify(p.allowedValue)}` };
    case "not":
      return {
        pointer: e.instancePath,
        message: `${where} uses a combination of fields that is not allowed here`,
      };
    default:
      return { pointer: e.instancePath, message: `${where}: schema rule '${e.keyword}' failed` };
  }
}

/** The allowed name nearest to a misspelt one, when it is near enough to be a likely typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
