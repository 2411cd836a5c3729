import { readFile, stat } from "node:fs/promises";
import { type DevfileError, fieldOf } from "./errors.ts";
import { flattenDevfile } from "./flatten.ts";
import { enforceGitlabRestrictions, gitlabProcessedView } from "./gitlab-rules.ts";
import { gitlabYamlProblem } from "./gitlab-yaml.ts";
import { checkSemantics, semanticWarnings } from "./semantics.ts";
import { errorAt, MAX_DEVFILE_BYTES, parseSource, sizeError } from "./source.ts";
import type { WorkspaceSpec } from "./spec.ts";
import { toWorkspaceSpec } from "./to-spec.ts";
import { validateAgainstSchema } from "./validate-schema.ts";
import { substituteVariables } from "./variables.ts";

export type RuleSet = "default" | "gitlab";

export interface LoadOptions {
  /** "gitlab" adds GitLab's workspace restrictions to the devfile specification's rules. */
  rules?: RuleSet;
  /** Values for {{name}} references; they override the devfile's own `variables`. */
  variables?: Record<string, string>;
}

export type DevfileResult =
  | { ok: true; spec: WorkspaceSpec; devfile: Record<string, unknown>; warnings: DevfileError[] }
  | { ok: false; errors: DevfileError[] };

/** Rule name of the error returned when there is no file to read (missing, a directory): the CLI exits 2. */
export const UNREADABLE_RULE = "unreadable";

function unreadable(path: string, reason: string): DevfileResult {
  return {
    ok: false,
    errors: [
      {
        file: path,
        line: 1,
        column: 1,
        pointer: "",
        field: "",
        rule: UNREADABLE_RULE,
        message: `cannot read the devfile: ${reason}`,
      },
    ],
  };
}

/**
 * Reads, parses, validates (official schema for its schemaVersion, then the rules the schema cannot express),
 * flattens (parent, plugins, variables) and normalises a devfile. Never throws for a bad devfile: every problem
 * comes back as a located error; a file that cannot be read at all comes back as one error with rule "unreadable".
 */
export async function loadDevfile(path: string, opts: LoadOptions = {}): Promise<DevfileResult> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return unreadable(path, "it is a directory; give the path of a devfile.yaml");
    if (info.size > MAX_DEVFILE_BYTES) return { ok: false, errors: [sizeError(path, info.size)] };
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return unreadable(path, code === "ENOENT" ? "no such file" : (err as Error).message);
  }
  return parseDevfileText(text, path, opts);
}

/** The same as loadDevfile for text already in memory; `fileName` names it in errors and anchors relative parents. */
export async function parseDevfileText(
  text: string,
  fileName: string,
  opts: LoadOptions = {},
): Promise<DevfileResult> {
  const rules = opts.rules ?? "default";
  const parsed = parseSource(text, fileName);
  if (!parsed.ok) return parsed;
  const source = parsed.source;

  if (rules === "gitlab") {
    const refused = gitlabYamlProblem(source.doc);
    if (refused) {
      const at = source.lines.linePos(refused.node.range?.[0] ?? 0);
      const { pointer, message } = refused;
      return {
        ok: false,
        errors: [
          {
            file: source.file,
            line: at.line,
            column: at.col,
            pointer,
            field: fieldOf(pointer),
            message,
            rule: "gitlab",
          },
        ],
      };
    }
    // GitLab checks the user's devfile before flattening, and stops there when it breaks a rule.
    const before = enforceGitlabRestrictions(source.value, { processed: false });
    if (before.length > 0) {
      return { ok: false, errors: before.map((v) => errorAt(source, v.pointer, v.message, "gitlab")) };
    }
  }

  const checked = validateAgainstSchema(source);
  if (!checked.ok) return checked;

  const flattened = await flattenDevfile(source);
  if (!flattened.ok) return flattened;
  const { origins } = flattened.flat;

  const substituted = substituteVariables(flattened.flat.devfile, origins, opts.variables);
  if (substituted.errors.length > 0) return { ok: false, errors: substituted.errors };
  const devfile = substituted.devfile;

  const semantic = inFileOrder(
    checkSemantics(devfile).map((p) => origins.errorAt(p.pointer, p.message, "semantic")),
  );
  if (semantic.length > 0) return { ok: false, errors: semantic };

  if (rules === "gitlab") {
    const after = enforceGitlabRestrictions(gitlabProcessedView(devfile), { processed: true });
    if (after.length > 0)
      return { ok: false, errors: after.map((v) => origins.errorAt(v.pointer, v.message, "gitlab")) };
  }

  const spec = toWorkspaceSpec(devfile, fileName);
  const warnings = [
    ...semanticWarnings(devfile).map((w) => origins.errorAt(w.pointer, w.message, "semantic")),
    ...ignoredComponentWarnings(devfile).map((w) => origins.errorAt(w.pointer, w.message, "ignored")),
  ];
  return { ok: true, spec, devfile, warnings };
}

function inFileOrder(errors: DevfileError[]): DevfileError[] {
  return errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

function ignoredComponentWarnings(devfile: Record<string, unknown>): { pointer: string; message: string }[] {
  const components = Array.isArray(devfile.components) ? devfile.components : [];
  return components.flatMap((c, i) => {
    if (typeof c !== "object" || c === null) return [];
    const type = ["kubernetes", "openshift", "image", "custom"].find((t) => t in c);
    if (!type) return [];
    const name = String((c as Record<string, unknown>).name);
    return [
      {
        pointer: `/components/${i}/${type}`,
        message: `component '${name}' is ${type === "image" ? "an" : "a"} ${type} component: a workspace does not run it (listed in spec.ignoredComponents)`,
      },
    ];
  });
}
