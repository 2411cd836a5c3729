// Quoting for bash: devfile strings reach the job script only through these helpers or through CI variables.

/** One bash word that is exactly `value`, whatever it contains. */
export function shellQuote(value: string): string {
  if (value === "") return "''";
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A POSIX shell variable name (what `export` accepts and env(1) passes on unchanged). */
export function isShellVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

const DEVFILE_PATH_VARIABLES = ["PROJECT_SOURCE", "PROJECTS_ROOT"] as const;

/**
 * A devfile path (workingDir, mount path) as a bash word: `$PROJECT_SOURCE`/`${PROJECTS_ROOT}` references
 * expand, everything else is literal, so no other `$`, backquote or quote in the path can run code.
 */
export function shellPathWord(path: string): string {
  const pattern = new RegExp(
    `\\$\\{(${DEVFILE_PATH_VARIABLES.join("|")})\\}|\\$(${DEVFILE_PATH_VARIABLES.join("|")})(?![A-Za-z0-9_])`,
    "g",
  );
  const parts: string[] = [];
  let last = 0;
  for (const match of path.matchAll(pattern)) {
    if (match.index > last) parts.push(shellQuote(path.slice(last, match.index)));
    parts.push(`"$${match[1] ?? match[2]}"`);
    last = match.index + match[0].length;
  }
  if (last < path.length || parts.length === 0) parts.push(shellQuote(path.slice(last)));
  return parts.join("");
}
