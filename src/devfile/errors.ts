/** One problem found in a devfile, located in its source file. */
export interface DevfileError {
  file: string;
  /** 1-based; the position of the node at `pointer`, or of its nearest ancestor that exists in the file. */
  line: number;
  column: number;
  /** JSON pointer into the devfile, e.g. /components/1/container/memoryLimit ("" is the whole document). */
  pointer: string;
  /** The same place as a dotted path, e.g. components[1].container.memoryLimit. */
  field: string;
  message: string;
  /** Which check produced it: yaml, size, schema, semantic, flatten, variable, gitlab. */
  rule?: string;
}

/** `file:line:column: message`, the form editors and terminals turn into links. */
export function formatError(err: DevfileError): string {
  return `${err.file}:${err.line}:${err.column}: ${err.message}`;
}

export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((s) => `/${escapePointerSegment(s)}`).join("");
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** /components/1/container/memoryLimit → components[1].container.memoryLimit */
export function fieldOf(pointer: string): string {
  let out = "";
  for (const segment of pointerSegments(pointer)) {
    if (/^(0|[1-9][0-9]*)$/.test(segment)) out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** How a field is named in a message: the dotted path, or "the devfile" for the root. */
export function describeField(pointer: string): string {
  const field = fieldOf(pointer);
  return field === "" ? "the devfile" : field;
}
