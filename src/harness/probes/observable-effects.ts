import type { ExecCommandSpec } from "../../devfile/spec.ts";

/**
 * Files an exec command visibly creates: the targets of `> FILE`, `>> FILE` and `touch FILE`. A probe
 * can only vouch for a command it can see the effect of, so commands without one are not judged.
 */
export function createdFiles(command: ExecCommandSpec): string[] {
  const files = new Set<string>();
  for (const m of command.commandLine.matchAll(/(?:>>?|\btouch)\s+("[^"]+"|'[^']+'|[^\s;&|)]+)/g)) {
    const target = m[1]!.replace(/^["']|["']$/g, "");
    if (target !== "/dev/null" && !target.startsWith("&")) files.add(target);
  }
  return [...files];
}

/** Shell words that test the files exist, expanding variables as the command did, from its working dir. */
/**
 * A shell test that every file exists and, with `since` (epoch ms), was modified since then: a file left by
 * an earlier workspace (hosts without isolation share paths such as /cache) does not count.
 */
export function existsScript(command: ExecCommandSpec, files: string[], since?: number): string {
  const cd = command.workingDir ? `cd ${command.workingDir} 2>/dev/null; ` : "";
  const newer = since === undefined ? undefined : Math.floor(since / 1000) - 1;
  return `${cd}${files
    .map((f) => {
      const word = f.includes(" ") ? `"${f}"` : f;
      return newer === undefined
        ? `test -e ${word}`
        : `test -e ${word} && [ "$(stat -c %Y ${word})" -ge ${newer} ]`;
    })
    .join(" && ")}`;
}
