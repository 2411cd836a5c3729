import { type Document, isNode, LineCounter, parseDocument } from "yaml";

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
}

export function parseYamlWithPositions(text: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  return { doc, lines };
}

/** 1-based line and column of the node at a JSON pointer, or of its nearest existing ancestor. */
export function locate(parsed: ParsedYaml, pointer: string): { line: number; column: number } {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  for (let n = segments.length; n >= 0; n--) {
    const path = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = n === 0 ? parsed.doc.contents : parsed.doc.getIn(path, true);
    if (isNode(node) && node.range) {
      const { line, col } = parsed.lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

/** The document's data, or an error naming file:line:column for a syntax error, a bad alias or an alias bomb. */
export function yamlData(parsed: ParsedYaml, file: string): { data: unknown } | { error: string } {
  const first = parsed.doc.errors[0];
  if (first) {
    const { line, col } = parsed.lines.linePos(first.pos[0]);
    return { error: `${file}:${line}:${col}: not valid YAML: ${first.message.split("\n")[0]}` };
  }
  try {
    return { data: parsed.doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { error: `${file}:1:1: not valid YAML: ${(err as Error).message.split("\n")[0]}` };
  }
}
