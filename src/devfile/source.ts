import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Tags,
} from "yaml";
import { type DevfileError, fieldOf, pointerSegments } from "./errors.ts";
import { toPlain } from "./yaml-plain.ts";

/** GitLab refuses devfiles over 3 MB (RestrictionsEnforcer::MAX_DEVFILE_SIZE_BYTES). */
export const MAX_DEVFILE_BYTES = 3 * 1024 * 1024;
/** Aliases allowed per document before it counts as an alias bomb (yaml's own default). */
export const MAX_ALIAS_COUNT = 100;
/** Deeper than this is not a devfile, and deep recursion must not crash the process. */
export const MAX_NESTING_DEPTH = 64;
/** Unclosed [ and { beyond this are refused before parsing: the YAML parser recurses once per level. */
const MAX_FLOW_DEPTH = 256;

/** A parsed YAML file that can say where any JSON pointer sits in its text. */
export interface DevfileSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The plain data. */
  value: unknown;
}

export type ParseOutcome = { ok: true; source: DevfileSource } | { ok: false; errors: DevfileError[] };

export function sizeError(file: string, bytes: number): DevfileError {
  const mb = (bytes / (1024 * 1024)).toFixed(2);
  return {
    file,
    line: 1,
    column: 1,
    pointer: "",
    field: "",
    rule: "size",
    message: `the file is ${mb} MB (${bytes} bytes); GitLab refuses devfiles over 3 MB (${MAX_DEVFILE_BYTES} bytes): split it or move large scripts into the repository`,
  };
}

export function parseSource(text: string, file: string): ParseOutcome {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_DEVFILE_BYTES) return { ok: false, errors: [sizeError(file, bytes)] };
  const deep = flowDepthBeyond(text, MAX_FLOW_DEPTH);
  if (deep >= 0) {
    const before = text.slice(0, deep);
    const line = before.split("\n").length;
    const column = deep - before.lastIndexOf("\n");
    return {
      ok: false,
      errors: [
        {
          file,
          line,
          column,
          pointer: "",
          field: "",
          rule: "yaml",
          message: `YAML nesting is deeper than ${MAX_FLOW_DEPTH} levels of [ and {; a devfile never needs that`,
        },
      ],
    };
  }
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, {
      lineCounter: lines,
      prettyErrors: false,
      uniqueKeys: true,
      // YAML 1.1, as GitLab (Ruby Psych) and the devfile library (go-yaml) read devfiles: `yes`/`on` are booleans.
      // Timestamps stay strings: GitLab's safe_load refuses Date objects and the schema wants strings.
      version: "1.1",
      customTags: yaml11Tags,
    });
  } catch (err) {
    return { ok: false, errors: [crashError(file, err)] };
  }
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        pointer: "",
        field: "",
        rule: "yaml",
        message: /call stack/i.test(e.message)
          ? "YAML is nested too deeply to read; a devfile never needs that"
          : `YAML syntax: ${yamlMessage(e.message)}`,
      })),
    };
  }
  const plain = toPlain(doc, MAX_ALIAS_COUNT, MAX_NESTING_DEPTH);
  if (!plain.ok) {
    const message =
      plain.reason === "alias-bomb"
        ? `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions): refused as an alias bomb; write the values out instead of nesting anchors`
        : plain.reason === "too-deep"
          ? `YAML nesting is deeper than ${MAX_NESTING_DEPTH} levels; a devfile never needs that`
          : "YAML alias refers to an anchor that is not defined before it";
    return {
      ok: false,
      errors: [{ file, ...at(plain.node?.range?.[0] ?? 0), pointer: "", field: "", rule: "yaml", message }],
    };
  }
  const value = plain.value;
  return { ok: true, source: { file, doc, lines, value } };
}

/**
 * The offset where flow nesting ([ and { outside quotes and comments) first goes beyond `limit`, or -1. A cheap
 * scan, so hostile input never reaches the parser's recursion.
 */
function flowDepthBeyond(text: string, limit: number): number {
  let depth = 0;
  let quote = "";
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === "\n") comment = false;
    } else if (quote === '"') {
      if (c === "\\") i++;
      else if (c === '"') quote = "";
    } else if (quote === "'") {
      if (c === "'") quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      comment = true;
    } else if (c === "[" || c === "{") {
      if (++depth > limit) return i;
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth--;
    }
  }
  return -1;
}

/**
 * YAML 1.1 tags as Ruby's Psych (GitLab's reader) resolves them: no timestamps; floats need a digit before the
 * exponent or around the point (yaml's 1.1 floats also take a lone "." and "e0", and devfiles write
 * `buildContext: .`); booleans are yes/true/on and no/false/off in any case, but not y/n.
 */
function yaml11Tags(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t === "string" || t.tag !== "tag:yaml.org,2002:timestamp")
    .map((t) => {
      if (typeof t === "string" || !(t.test instanceof RegExp)) return t;
      let test: RegExp | undefined;
      if (t.test.test("e0")) test = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$/;
      else if (t.test.test(".")) test = /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;
      else if (t.test.test("yes")) test = /^(?:yes|true|on)$/i;
      else if (t.test.test("no")) test = /^(?:no|false|off)$/i;
      return test ? ({ ...t, test } as typeof t) : t;
    });
}

function yamlMessage(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function crashError(file: string, err: unknown): DevfileError {
  const deep = err instanceof RangeError;
  return {
    file,
    line: 1,
    column: 1,
    pointer: "",
    field: "",
    rule: "yaml",
    message: deep
      ? "YAML is nested too deeply to read; a devfile never needs that"
      : `YAML could not be read: ${err instanceof Error ? err.message : String(err)}`,
  };
}

/** The node at a pointer: the value when it exists, else the key that holds it, else the nearest ancestor. */
function nodeAt(source: DevfileSource, pointer: string): Node | undefined {
  const doc = source.doc;
  let node: unknown = doc.contents;
  let best: Node | undefined = isNode(node) ? node : undefined;
  for (const segment of pointerSegments(pointer)) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === segment);
      if (!pair) return best;
      const value = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
      if (
        isNode(value) &&
        value.range &&
        !(isScalar(value) && value.value === null && value.range[0] === value.range[1])
      ) {
        best = value;
      } else if (isNode(pair.key)) {
        best = pair.key;
      }
      node = value;
    } else if (isSeq(node)) {
      const index = Number(segment);
      if (!Number.isInteger(index)) return best;
      const item = node.items[index];
      if (!isNode(item)) return best;
      best = item;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

export function locate(source: DevfileSource, pointer: string): { line: number; column: number } {
  const node = nodeAt(source, pointer);
  if (!node?.range) return { line: 1, column: 1 };
  const pos = source.lines.linePos(node.range[0]);
  return { line: pos.line, column: pos.col };
}

export function errorAt(source: DevfileSource, pointer: string, message: string, rule: string): DevfileError {
  return { file: source.file, ...locate(source, pointer), pointer, field: fieldOf(pointer), message, rule };
}
