import { type Document, isPair, isScalar, isSeq, type Node, Scalar, visit } from "yaml";
import { pointerOf } from "./errors.ts";

// GitLab reads a devfile with Ruby's `YAML.safe_load` (DevfileFetcher), which refuses aliases and every
// class but strings, numbers, booleans, nil, arrays and hashes. A plain scalar that Psych reads as a date,
// a time or a symbol is such a class. GitLab then answers "Devfile YAML could not be parsed: <Psych's message>".

const PSYCH_TIME =
  /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/;
const PSYCH_DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/;
const PSYCH_SYMBOL = /^:./;

export interface GitlabYamlProblem {
  node: Node;
  /** JSON pointer of the node (of its pair's value when the node is a key). */
  pointer: string;
  message: string;
}

/** The JSON pointer of a node from the ancestors yaml's visit() hands over. */
function pointerFromPath(path: readonly unknown[], node: unknown): string {
  const segments: (string | number)[] = [];
  for (let i = 0; i < path.length; i++) {
    const here = path[i];
    const next = path[i + 1] ?? node;
    if (isPair(here)) segments.push(isScalar(here.key) ? String(here.key.value) : "");
    else if (isSeq(here)) segments.push(here.items.indexOf(next as never));
  }
  return pointerOf(segments);
}

const refused = (what: string) =>
  `Devfile YAML could not be parsed: Tried to load unspecified class: ${what}`;

/** What stops GitLab from reading the devfile's YAML at all (the first such node, as Psych meets it), if anything. */
export function gitlabYamlProblem(doc: Document): GitlabYamlProblem | undefined {
  let found: GitlabYamlProblem | undefined;
  visit(doc, {
    Alias(_, node, path) {
      found = {
        node,
        pointer: pointerFromPath(path, node),
        message:
          "Devfile YAML could not be parsed: Alias parsing was not enabled. To enable it, pass `aliases: true` to `Psych::load` or `Psych::safe_load`.",
      };
      return visit.BREAK;
    },
    Scalar(_, node, path) {
      if (node.type !== Scalar.PLAIN || typeof node.source !== "string") return undefined;
      const text = node.source;
      const what = PSYCH_TIME.test(text)
        ? "Time"
        : PSYCH_DATE.test(text)
          ? "Date"
          : PSYCH_SYMBOL.test(text)
            ? "Symbol"
            : undefined;
      if (!what) return undefined;
      found = { node, pointer: pointerFromPath(path, node), message: refused(what) };
      return visit.BREAK;
    },
  });
  return found;
}
