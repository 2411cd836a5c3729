import type { DevfileError } from "./errors.ts";
import type { OriginMap } from "./flatten.ts";

const REFERENCE = /\{\{(.*?)\}\}/g;
/** Fields whose values are never substituted: the version selects the schema, variables define the values. */
const NOT_SUBSTITUTED = new Set(["schemaVersion", "variables", "parent"]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export interface Substituted {
  devfile: Obj;
  variables: Record<string, string>;
  errors: DevfileError[];
}

/**
 * Replaces every {{name}} in the devfile's string values by the variable's value: the devfile's own
 * `variables`, overridden by the caller's. A name defined nowhere is an error that names it.
 */
export function substituteVariables(
  devfile: Obj,
  origins: OriginMap,
  given: Record<string, string> = {},
): Substituted {
  const variables: Record<string, string> = {};
  if (isObj(devfile.variables)) {
    for (const [k, v] of Object.entries(devfile.variables))
      variables[k] = typeof v === "string" ? v : String(v);
  }
  Object.assign(variables, given);
  const errors: DevfileError[] = [];
  const walk = (value: unknown, pointer: string): unknown => {
    if (typeof value === "string") {
      if (!value.includes("{{")) return value;
      return value.replace(REFERENCE, (whole, name: string) => {
        if (Object.hasOwn(variables, name)) return variables[name]!;
        errors.push(
          origins.errorAt(
            pointer,
            `variable '${name}' is not defined: add it under 'variables:' in the devfile, or pass --var ${name}=VALUE`,
            "variable",
          ),
        );
        return whole;
      });
    }
    // Unchanged subtrees are returned as they are: most of a devfile has no {{reference}}.
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      value.forEach((v, i) => {
        const w = walk(v, `${pointer}/${i}`);
        if (w !== v) out ??= [...value];
        if (out) out[i] = w;
      });
      return out ?? value;
    }
    if (isObj(value)) {
      let out: Obj | undefined;
      for (const [k, v] of Object.entries(value)) {
        if (pointer === "" && NOT_SUBSTITUTED.has(k)) continue;
        const w = walk(v, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
        if (w !== v) out ??= { ...value };
        if (out) out[k] = w;
      }
      return out ?? value;
    }
    return value;
  };
  const substituted = walk(devfile, "") as Obj;
  return { devfile: substituted, variables, errors };
}
