// GitLab's own variable expansion (lib/expand_variables.rb), used where GitLab, not the runner, expands:
// `$VAR`, `${VAR}` and `%VAR%`, one level deep; `expand_existing` keeps a reference to an undefined
// variable as written (a tag `$NOPE` stays `$NOPE`, and the job waits for a runner with that tag).

const VARIABLE_REFERENCE =
  /\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|%([a-zA-Z_][a-zA-Z0-9_]*)%/g;

/** ExpandVariables.expand_existing: defined variables replaced, undefined references left as they are. */
export function expandExisting(value: string, variables: Record<string, string>): string {
  return value.replace(VARIABLE_REFERENCE, (whole, bare, braced, percent) => {
    const key: string = bare ?? braced ?? percent;
    return Object.hasOwn(variables, key) ? variables[key]! : whole;
  });
}
