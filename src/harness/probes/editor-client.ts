import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import type { WorkspaceHandle } from "../workspace.ts";

export interface ExecOutput {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class EditorUnreachable extends Error {
  override name = "EditorUnreachable";
}

/**
 * Runs a command in the main container the way a user does: through the injected editor at the
 * workspace URL (the editor's terminal). The editor puts its own node binary in $WSPARITY_NODE.
 */
export async function execInWorkspace(
  ws: WorkspaceHandle,
  command: string[] | string,
  options: { timeoutMs?: number; stdin?: string } = {},
): Promise<ExecOutput> {
  const url = ws.url(EDITOR_PORT, "/api/exec");
  let res: Response;
  try {
    res = await ws.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command, timeoutMs: options.timeoutMs ?? 15_000, stdin: options.stdin }),
      signal: AbortSignal.timeout((options.timeoutMs ?? 15_000) + 5_000),
    });
  } catch (err) {
    throw new EditorUnreachable(`POST ${url} failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new EditorUnreachable(`POST ${url} → ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as ExecOutput;
}

/** One line of evidence for an exec: the command, exit code and the start of its output. */
export function describeExec(command: string[] | string, out: ExecOutput): string {
  const shown = typeof command === "string" ? command : command.join(" ");
  const output = `${out.stdout}${out.stderr}`.trim().replace(/\s+/g, " ").slice(0, 160);
  return `\`${shown.slice(0, 120)}\` → exit ${out.exitCode}${out.timedOut ? " (timed out)" : ""}${output ? `: ${output}` : ""}`;
}
