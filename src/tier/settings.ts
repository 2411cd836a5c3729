// A tier as one settings file: where GitLab is and who the harness is there, which cluster agent runs the
// Kubernetes path, which runner tags pick each executor and architecture, which DNS zones the workspace and
// tunnel URLs live in, and the CA bundle to trust. `sim up` writes it; a live GitLab gets one by hand.
import { readFileSync, writeFileSync } from "node:fs";
import { Ajv } from "ajv";
import { stringify } from "yaml";
import { UsageError } from "../util/errors.ts";
import { locate, parseYamlWithPositions, yamlData } from "../util/yaml-locate.ts";

export interface RunnerSelector {
  executor: "shell" | "docker" | "kubernetes";
  arch: "amd64" | "arm64";
  tags: string[];
  /** Where this runner's jobs dial the tunnel, when not at ci.tunnel.agentUrl (e.g. a socket pods share). */
  agentUrl?: string;
}

/** wsparity's tunnel server, which the CI path's jobs dial and its users reach. */
export interface TunnelSettings {
  /** The user listener: workspace URLs and the admin API (/-/admin/workspaces). */
  url: string;
  /** The admin API's bearer token (tunnel serve --admin-token-file). */
  adminToken: string;
  /** Where jobs' agents dial it. */
  agentUrl: string;
}

export interface ClusterAgentSelector {
  /** The architecture of the cluster's nodes. */
  arch: "amd64" | "arm64";
  /** gid://gitlab/Clusters::Agent/<id> */
  clusterAgentId: string;
  /** The agent config's dns_zone: workspace URLs are <port>-<workspace>.<zone>. */
  dnsZone: string;
  /** Where names in the zone resolve, when no DNS server knows them (the cluster's workspaces proxy). */
  resolveTo?: string;
}

export interface TierSettings {
  tier: "sim" | "docker" | "live";
  gitlab: {
    url: string;
    /** A personal access token with the api scope. */
    token: string;
    /** The namespace the cluster agent is mapped to. */
    group: string;
    /** Full path of the project workspaces and pipelines run from. */
    project: string;
  };
  kubernetes: {
    /** A cluster agent per node architecture the tier's clusters have. */
    agents: ClusterAgentSelector[];
  };
  ci: {
    /** The tunnel's domain: CI workspaces are reached at <port>-<workspace>.<domain>. */
    tunnelDomain: string;
    resolveTo?: string;
    /** Without it, CI cells cannot run (the settings say where GitLab is, not where the tunnel is). */
    tunnel?: TunnelSettings;
    runners: RunnerSelector[];
  };
  /** PEM file of the CA that signed GitLab's, the proxy's and the tunnel's certificates, when not public. */
  caBundle?: string;
}

const hostPort = { type: "string", pattern: "^[^\\s/:]+:\\d{1,5}$" };
const schema = {
  type: "object",
  additionalProperties: false,
  required: ["tier", "gitlab", "kubernetes", "ci"],
  properties: {
    tier: { enum: ["sim", "docker", "live"] },
    gitlab: {
      type: "object",
      additionalProperties: false,
      required: ["url", "token", "group", "project"],
      properties: {
        url: { type: "string", pattern: "^https?://" },
        token: { type: "string", minLength: 1 },
        group: { type: "string", minLength: 1 },
        project: { type: "string", pattern: "^[^/\\s]+(/[^/\\s]+)+$" },
      },
    },
    kubernetes: {
      type: "object",
      additionalProperties: false,
      required: ["agents"],
      properties: {
        agents: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["arch", "clusterAgentId", "dnsZone"],
            properties: {
              arch: { enum: ["amd64", "arm64"] },
              clusterAgentId: { type: "string", pattern: "^gid://gitlab/Clusters::Agent/\\d+$" },
              dnsZone: { type: "string", minLength: 1 },
              resolveTo: hostPort,
            },
          },
        },
      },
    },
    ci: {
      type: "object",
      additionalProperties: false,
      required: ["tunnelDomain", "runners"],
      properties: {
        tunnelDomain: { type: "string", minLength: 1 },
        resolveTo: hostPort,
        tunnel: {
          type: "object",
          additionalProperties: false,
          required: ["url", "adminToken", "agentUrl"],
          properties: {
            url: { type: "string", pattern: "^https?://" },
            adminToken: { type: "string", minLength: 1 },
            agentUrl: { type: "string", pattern: "^(https?|wss?|tcp|tls|unix)://" },
          },
        },
        runners: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["executor", "arch", "tags"],
            properties: {
              executor: { enum: ["shell", "docker", "kubernetes"] },
              arch: { enum: ["amd64", "arm64"] },
              tags: { type: "array", items: { type: "string", minLength: 1 } },
              agentUrl: { type: "string", pattern: "^(https?|wss?|tcp|tls|unix)://" },
            },
          },
        },
      },
    },
    caBundle: { type: "string", minLength: 1 },
  },
} as const;

let validator: ReturnType<Ajv["compile"]> | undefined;

/** Reads a tier settings file; every problem names file:line:column and the field. */
export function parseTierSettings(text: string, file: string): TierSettings {
  const parsed = parseYamlWithPositions(text);
  const loaded = yamlData(parsed, file);
  if ("error" in loaded) throw new UsageError(loaded.error);
  validator ??= new Ajv({ allErrors: true }).compile(schema);
  if (!validator(loaded.data)) {
    const problems = (validator.errors ?? []).map((e) => {
      const extra = e.keyword === "additionalProperties" ? `/${String(e.params.additionalProperty)}` : "";
      const { line, column } = locate(parsed, `${e.instancePath}${extra}`);
      const field = `${e.instancePath}${extra}`.slice(1).replace(/\//g, ".") || "settings";
      const what =
        e.keyword === "additionalProperties"
          ? "is not a tier setting"
          : e.keyword === "enum"
            ? `must be one of ${(e.params.allowedValues as unknown[]).join(", ")}`
            : (e.message ?? "is invalid");
      return `${file}:${line}:${column}: ${field} ${what}`;
    });
    throw new UsageError(`invalid tier settings:\n  ${problems.join("\n  ")}`);
  }
  return loaded.data as TierSettings;
}

export function readTierSettings(file: string): TierSettings {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read the tier settings ${file}: ${(err as Error).message}`);
  }
  return parseTierSettings(text, file);
}

export function tierSettingsYaml(settings: TierSettings): string {
  return `# wsparity tier settings (written by wsparity sim up, live up or live init; or by hand)\n${stringify(settings)}`;
}

export function writeTierSettings(file: string, settings: TierSettings): void {
  writeFileSync(file, tierSettingsYaml(settings), { mode: 0o600 });
}
