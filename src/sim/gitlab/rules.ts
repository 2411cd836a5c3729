// GitLab's `rules:if` expression language, the part pipelines use: $VAR, "strings", null, ==, !=, =~, !~,
// &&, || and parentheses. An undefined variable is null; a defined empty one is "".

export class ExpressionError extends Error {}

type Token = { kind: "var" | "str" | "null" | "regex" | "op" | "lparen" | "rparen"; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(rest);
    const string = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/.exec(rest);
    const regex = /^\/((?:[^/\\]|\\.)*)\/([a-z]*)/.exec(rest);
    const op = /^(==|!=|=~|!~|&&|\|\|)/.exec(rest);
    if (variable) tokens.push({ kind: "var", text: variable[1]! });
    else if (string) tokens.push({ kind: "str", text: string[1]!.slice(1, -1).replace(/\\(.)/g, "$1") });
    else if (/^null\b/.test(rest)) tokens.push({ kind: "null", text: "null" });
    else if (op) tokens.push({ kind: "op", text: op[1]! });
    else if (regex) tokens.push({ kind: "regex", text: `${regex[1]}\u0000${regex[2]}` });
    else if (rest[0] === "(") tokens.push({ kind: "lparen", text: "(" });
    else if (rest[0] === ")") tokens.push({ kind: "rparen", text: ")" });
    else throw new ExpressionError(`invalid expression syntax near ${JSON.stringify(rest.slice(0, 20))}`);
    i += (variable ?? string ?? op ?? regex)?.[0].length ?? (rest.startsWith("null") ? 4 : 1);
  }
  return tokens;
}

type Value = string | null | boolean | RegExp;

/** Evaluates a rules:if expression against the pipeline's variables. */
export function evaluateIf(source: string, variables: Record<string, string>): boolean {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const truthy = (v: Value) => v !== null && v !== "" && v !== false;

  const primary = (): Value => {
    const token = tokens[pos++];
    if (!token) throw new ExpressionError("unexpected end of expression");
    if (token.kind === "lparen") {
      const value = or();
      if (tokens[pos++]?.kind !== "rparen") throw new ExpressionError("missing )");
      return value;
    }
    if (token.kind === "var") return variables[token.text] ?? null;
    if (token.kind === "str") return token.text;
    if (token.kind === "null") return null;
    if (token.kind === "regex") {
      const [pattern, flags] = token.text.split("\u0000");
      return new RegExp(pattern!, flags!.replace(/[^imsu]/g, ""));
    }
    throw new ExpressionError(`unexpected ${token.text}`);
  };
  const comparison = (): Value => {
    const left = primary();
    const op = peek();
    if (op?.kind !== "op" || !["==", "!=", "=~", "!~"].includes(op.text)) return left;
    pos++;
    const right = primary();
    if (op.text === "==") return left === right;
    if (op.text === "!=") return left !== right;
    if (!(right instanceof RegExp)) throw new ExpressionError(`${op.text} needs a /regex/ on its right`);
    const matched = typeof left === "string" && right.test(left);
    return op.text === "=~" ? matched : !matched;
  };
  const and = (): Value => {
    let value = comparison();
    while (peek()?.text === "&&") {
      pos++;
      const right = comparison();
      value = truthy(value) && truthy(right);
    }
    return value;
  };
  const or = (): Value => {
    let value = and();
    while (peek()?.text === "||") {
      pos++;
      const right = and();
      value = truthy(value) || truthy(right);
    }
    return value;
  };
  const result = or();
  if (pos !== tokens.length) throw new ExpressionError(`unexpected ${tokens[pos]!.text}`);
  return truthy(result);
}
