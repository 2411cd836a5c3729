// GitLab's CI expression language (`rules:if`, `only:variables`, `workflow:rules:if`): a lexer and a
// precedence-climbing parser into a small tree, evaluated against the pipeline's variables the way
// GitLab's Gitlab::Ci::Pipeline::Expression does it (lib/gitlab/ci/pipeline/expression/):
// - lexemes: `$NAME` (\w+), "double" or 'single' quoted strings without escapes, /pattern/flags
//   (flags i, s, m, U; `\/` inside), `null`, `==`, `!=`, `=~`, `!~`, `&&`, `||`, parentheses;
// - `&&` binds tighter than `||`; both return an operand, as Ruby's do (only nil and false are falsy);
// - an undefined variable is null; a statement is true when its value is present (not null, false or "");
// - `=~` with a variable on the right reads the variable's value as a /pattern/.

export class ExpressionError extends Error {}

type Token =
  | { kind: "variable"; name: string }
  | { kind: "string"; value: string }
  | { kind: "pattern"; source: string; flags: string }
  | { kind: "null" }
  | { kind: "operator"; op: BinaryOperator }
  | { kind: "lparen" }
  | { kind: "rparen" };

type BinaryOperator = "==" | "!=" | "=~" | "!~" | "&&" | "||";

export type Expression =
  | { kind: "variable"; name: string }
  | { kind: "string"; value: string }
  | { kind: "pattern"; source: string; flags: string }
  | { kind: "null" }
  | { kind: "binary"; op: BinaryOperator; left: Expression; right: Expression };

const LEXEMES: [RegExp, (m: RegExpExecArray) => Token][] = [
  [/^\$(\w+)/, (m) => ({ kind: "variable", name: m[1]! })],
  [/^"([^"]*)"/, (m) => ({ kind: "string", value: m[1]! })],
  [/^'([^']*)'/, (m) => ({ kind: "string", value: m[1]! })],
  [/^\/((?:\\\/|[^/])+)\/([ismU]*)/, (m) => ({ kind: "pattern", source: m[1]!, flags: m[2]! })],
  [/^null\b/, () => ({ kind: "null" })],
  [/^(==|!=|=~|!~|&&|\|\|)/, (m) => ({ kind: "operator", op: m[1] as BinaryOperator })],
  [/^\(/, () => ({ kind: "lparen" })],
  [/^\)/, () => ({ kind: "rparen" })],
];

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  for (;;) {
    rest = rest.replace(/^\s+/, "");
    if (rest === "") return tokens;
    let matched = false;
    for (const [pattern, build] of LEXEMES) {
      const m = pattern.exec(rest);
      if (!m) continue;
      tokens.push(build(m));
      rest = rest.slice(m[0].length);
      matched = true;
      break;
    }
    if (!matched) throw new ExpressionError(`Unknown lexeme found: ${rest.split(/\s/)[0]}`);
  }
}

const PRECEDENCE: Record<BinaryOperator, number> = { "||": 1, "&&": 2, "==": 3, "!=": 3, "=~": 3, "!~": 3 };

/** Parses an expression; ExpressionError when it is not one GitLab accepts. */
export function parseExpression(source: string): Expression {
  const tokens = tokenize(source);
  let pos = 0;
  const operand = (): Expression => {
    const token = tokens[pos++];
    if (!token) throw new ExpressionError("Unexpected end of expression");
    if (token.kind === "lparen") {
      const inner = binary(1);
      if (tokens[pos++]?.kind !== "rparen") throw new ExpressionError("Unmatched parenthesis");
      return inner;
    }
    if (token.kind === "operator" || token.kind === "rparen")
      throw new ExpressionError("Unexpected operator or parenthesis");
    if (token.kind === "pattern") {
      try {
        new RegExp(token.source.replace(/\\\//g, "/"), jsFlags(token.flags));
      } catch {
        throw new ExpressionError("Invalid regular expression!");
      }
    }
    return token;
  };
  const binary = (minPrecedence: number): Expression => {
    let left = operand();
    for (;;) {
      const token = tokens[pos];
      if (token?.kind !== "operator" || PRECEDENCE[token.op] < minPrecedence) return left;
      pos++;
      const right = binary(PRECEDENCE[token.op] + 1);
      left = { kind: "binary", op: token.op, left, right };
    }
  };
  if (tokens.length === 0) throw new ExpressionError("Empty expression");
  const tree = binary(1);
  if (pos !== tokens.length) throw new ExpressionError("Unexpected token after a complete expression");
  return tree;
}

type Value = string | null | boolean | RegExp;

function jsFlags(flags: string): string {
  // RE2's U (ungreedy) has no JavaScript equivalent; the others map one to one.
  return flags.replace(/U/g, "");
}

function toPattern(value: Value): RegExp | null {
  if (value instanceof RegExp) return value;
  if (typeof value !== "string") return null;
  const m = /^\/((?:\\\/|[^/])+)\/([ismU]*)$/.exec(value);
  try {
    return m ? new RegExp(m[1]!.replace(/\\\//g, "/"), jsFlags(m[2]!)) : new RegExp(value);
  } catch {
    throw new ExpressionError("Invalid regular expression!");
  }
}

const rubyTruthy = (v: Value) => v !== null && v !== false;

function evaluate(node: Expression, variables: Readonly<Record<string, string>>): Value {
  switch (node.kind) {
    case "variable":
      return Object.hasOwn(variables, node.name) ? variables[node.name]! : null;
    case "string":
      return node.value;
    case "null":
      return null;
    case "pattern":
      return new RegExp(node.source.replace(/\\\//g, "/"), jsFlags(node.flags));
    case "binary": {
      if (node.op === "&&") {
        const left = evaluate(node.left, variables);
        return rubyTruthy(left) ? evaluate(node.right, variables) : left;
      }
      if (node.op === "||") {
        const left = evaluate(node.left, variables);
        return rubyTruthy(left) ? left : evaluate(node.right, variables);
      }
      const left = evaluate(node.left, variables);
      const right = evaluate(node.right, variables);
      if (node.op === "==" || node.op === "!=") {
        const equal =
          left instanceof RegExp || right instanceof RegExp ? String(left) === String(right) : left === right;
        return node.op === "==" ? equal : !equal;
      }
      const pattern = toPattern(right);
      const matches = pattern !== null && pattern.test(typeof left === "string" ? left : "");
      return node.op === "=~" ? matches : !matches;
    }
  }
}

/** Whether a statement holds for these variables: its value is present (not null, false or ""). */
export function evaluateExpression(source: string | Expression, variables: Readonly<Record<string, string>>) {
  const tree = typeof source === "string" ? parseExpression(source) : source;
  const value = evaluate(tree, variables);
  return value !== null && value !== false && value !== "";
}

/** Whether GitLab would accept this text as an expression. */
export function isValidExpression(source: unknown): boolean {
  if (typeof source !== "string") return false;
  try {
    parseExpression(source);
    return true;
  } catch (err) {
    if (err instanceof ExpressionError) return false;
    throw err;
  }
}
