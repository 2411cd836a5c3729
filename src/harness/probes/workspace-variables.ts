import { VARIABLES_FILE_DIR } from "../../kubernetes/settings.ts";
import { execInWorkspace } from "./editor-client.ts";
import { degraded, type Probe, supported, unsupported } from "./probe.ts";

const shellQuote = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`;

/**
 * The scenario's user variables arrive as env vars, and its file variables as files with their
 * content where GitLab mounts them (VARIABLES_FILE_DIR/NAME). A file that only arrives elsewhere
 * (CI's file variables: $NAME holds a temporary path) is degraded: usable, but not where a devfile expects it.
 */
export const workspaceVariables: Probe = {
  id: "workspace.variables",
  notApplicable: ({ scenario }) =>
    Object.keys(scenario.workspace.variables).length + Object.keys(scenario.workspace.files).length === 0
      ? "the scenario sets no workspace variables or files"
      : undefined,
  async run({ ws, scenario }) {
    const checks: string[] = [];
    let wrong = 0;
    let moved = 0;
    const env = await execInWorkspace(ws, ["env", "-0"]);
    const actual = new Map(
      env.stdout
        .split("\0")
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const),
    );
    for (const [name, value] of Object.entries(scenario.workspace.variables)) {
      const ok = actual.get(name) === value;
      if (!ok) wrong++;
      checks.push(
        `env ${name} ${ok ? "set" : `want ${JSON.stringify(value)}, got ${actual.has(name) ? JSON.stringify(actual.get(name)) : "unset"}`}`,
      );
    }
    for (const [name, content] of Object.entries(scenario.workspace.files)) {
      const path = `${VARIABLES_FILE_DIR}/${name}`;
      const out = await execInWorkspace(ws, `cat ${shellQuote(path)}`);
      if (out.exitCode === 0 && out.stdout === content) {
        checks.push(`file ${path} has its content`);
        continue;
      }
      const elsewhere = actual.get(name);
      const alt = elsewhere ? await execInWorkspace(ws, `cat ${shellQuote(elsewhere)}`) : undefined;
      if (alt?.exitCode === 0 && alt.stdout === content) {
        moved++;
        checks.push(`file ${path} missing, but $${name} points at ${elsewhere} with the content`);
      } else {
        wrong++;
        checks.push(`file ${path} ${out.exitCode === 0 ? "has other content" : "is missing"}`);
      }
    }
    const evidence = checks.join("; ");
    return wrong > 0 ? unsupported(evidence) : moved > 0 ? degraded(evidence) : supported(evidence);
  },
};
