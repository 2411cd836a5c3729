import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../util/errors.ts";
import type { AgentWorkspace } from "./agent-registry.ts";

/** Reads a secret file, trimmed; the error names the flag that pointed at it. */
export function readSecret(file: string, flag: string): string {
  try {
    const value = readFileSync(file, "utf8").trim();
    if (!value) throw new Error("the file is empty");
    return value;
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

/**
 * The workspaces file of `tunnel serve --workspaces`: YAML or JSON, a list of
 * `{workspace, agentToken | agentTokenFile, userTokens | userTokenFiles, ports}`.
 */
export function loadWorkspacesFile(file: string): AgentWorkspace[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`--workspaces ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    // JSON first: the YAML parser takes about a second for a few hundred workspaces, and restarts wait on it.
    doc = parseJsonOrUndefined(text) ?? parseYaml(text);
  } catch (err) {
    throw new UsageError(`--workspaces ${file}: not YAML/JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc))
    throw new UsageError(`--workspaces ${file}: the top level must be a list of workspaces`);
  return doc.map((entry, i) => {
    const where = `${file}: entry ${i + 1}`;
    const e = entry as Record<string, unknown>;
    if (typeof e?.workspace !== "string")
      throw new UsageError(`${where}: field "workspace" (string) is missing`);
    const agentToken =
      typeof e.agentToken === "string"
        ? e.agentToken
        : typeof e.agentTokenFile === "string"
          ? readSecret(e.agentTokenFile, `${where}: agentTokenFile`)
          : undefined;
    if (!agentToken) throw new UsageError(`${where}: give "agentToken" or "agentTokenFile"`);
    const userTokens = [
      ...(Array.isArray(e.userTokens) ? e.userTokens.map(String) : []),
      ...(Array.isArray(e.userTokenFiles)
        ? e.userTokenFiles.map((f) => readSecret(String(f), `${where}: userTokenFiles`))
        : []),
    ];
    if (userTokens.length === 0) throw new UsageError(`${where}: give "userTokens" or "userTokenFiles"`);
    const ports = e.ports === undefined ? undefined : (e.ports as unknown[]).map(Number);
    return { workspace: e.workspace, agentToken, userTokens, ...(ports ? { ports } : {}) };
  });
}

export function parseListen(value: string, flag: string): { host: string; port: number } {
  const colon = value.lastIndexOf(":");
  const host = colon === -1 ? "127.0.0.1" : value.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(colon === -1 ? value : value.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} ${value}: expected HOST:PORT with PORT 0-65535`);
  }
  return { host: host || "127.0.0.1", port };
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${value}: expected a positive integer`);
  return n;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
