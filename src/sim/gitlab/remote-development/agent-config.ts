// The `remote_development:` section of an agent's `.gitlab/agents/<name>/config.yaml`, read the way GitLab
// reads it when the agent connects: GitLab's defaults for what is absent, and GitLab's refusal for a bad value.
import { parse } from "yaml";

export interface WorkspacesAgentConfig {
  enabled: boolean;
  dnsZone: string;
  networkPolicyEnabled: boolean;
  networkPolicyEgress: { allow: string; except: string[] }[];
  defaultResourcesPerWorkspaceContainer: Record<string, unknown>;
  maxResourcesPerWorkspace:
    | { limits: { cpu: string; memory: string }; requests: { cpu: string; memory: string } }
    | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  imagePullSecrets: { name: string; namespace: string }[];
  sharedNamespace: string;
  workspacesQuota: number;
  workspacesPerUserQuota: number;
  gitlabWorkspacesProxyNamespace: string;
}

/** GitLab's answer when the config is unusable (the prerequisites endpoint's 406 text). */
export const INVALID_AGENT_CONFIG =
  "The remote development workspaces config for the agent is invalid. Please see https://docs.gitlab.com/user/workspace/settings/#configuration-reference";

const DEFAULT_EGRESS = [{ allow: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] }];

export class AgentConfigError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The workspaces config of an agent config file, or undefined when the file has no `remote_development:`. */
export function readWorkspacesAgentConfig(text: string, file: string): WorkspacesAgentConfig | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new AgentConfigError(`${file}: not YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return undefined;
  if (!isObj(doc)) throw new AgentConfigError(`${file}: the agent config must be a mapping`);
  const rd = doc.remote_development;
  if (rd === undefined) return undefined;
  if (!isObj(rd)) throw new AgentConfigError(`${file}: remote_development must be a mapping`);
  const field = <T>(key: string, check: (v: unknown) => v is T, fallback: T, what: string): T => {
    const v = rd[key];
    if (v === undefined) return fallback;
    if (!check(v)) throw new AgentConfigError(`${file}: remote_development.${key} must be ${what}`);
    return v;
  };
  const isBool = (v: unknown): v is boolean => typeof v === "boolean";
  const isStr = (v: unknown): v is string => typeof v === "string";
  const isInt = (v: unknown): v is number => Number.isInteger(v);
  const isStrMap = (v: unknown): v is Record<string, string> =>
    isObj(v) && Object.values(v).every((x) => typeof x === "string");
  const enabled = field("enabled", isBool, false, "true or false");
  const dnsZone = field("dns_zone", isStr, "", "a domain name");
  if (enabled && !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(dnsZone))
    throw new AgentConfigError(
      `${file}: remote_development.dns_zone must be a domain name, got "${dnsZone}"`,
    );
  const policy = field("network_policy", isObj, {}, "a mapping");
  const egress = policy.egress ?? DEFAULT_EGRESS;
  if (
    !Array.isArray(egress) ||
    !egress.every((e) => isObj(e) && typeof e.allow === "string" && Array.isArray(e.except ?? []))
  )
    throw new AgentConfigError(
      `${file}: remote_development.network_policy.egress must be a list of {allow, except}`,
    );
  const max = field("max_resources_per_workspace", isObj, {}, "a mapping");
  const quantity = (o: unknown, key: string) =>
    isObj(o) && typeof o[key] === "string" ? (o[key] as string) : "";
  const maxResources =
    Object.keys(max).length === 0
      ? undefined
      : {
          limits: { cpu: quantity(max.limits, "cpu"), memory: quantity(max.limits, "memory") },
          requests: { cpu: quantity(max.requests, "cpu"), memory: quantity(max.requests, "memory") },
        };
  if (maxResources && Object.values(maxResources).some((r) => !r.cpu || !r.memory))
    throw new AgentConfigError(
      `${file}: remote_development.max_resources_per_workspace needs limits and requests, each with cpu and memory`,
    );
  const pullSecrets = field("image_pull_secrets", Array.isArray, [], "a list of {name, namespace}");
  if (!pullSecrets.every((s) => isObj(s) && typeof s.name === "string" && typeof s.namespace === "string"))
    throw new AgentConfigError(
      `${file}: remote_development.image_pull_secrets must be a list of {name, namespace}`,
    );
  const proxy = field("gitlab_workspaces_proxy", isObj, {}, "a mapping");
  return {
    enabled,
    dnsZone,
    networkPolicyEnabled: policy.enabled === undefined ? true : policy.enabled === true,
    networkPolicyEgress: (egress as Obj[]).map((e) => ({
      allow: e.allow as string,
      except: ((e.except ?? []) as unknown[]).map(String),
    })),
    defaultResourcesPerWorkspaceContainer: field(
      "default_resources_per_workspace_container",
      isObj,
      {},
      "a mapping",
    ),
    maxResourcesPerWorkspace: maxResources,
    labels: field("labels", isStrMap, {}, "a mapping of strings"),
    annotations: field("annotations", isStrMap, {}, "a mapping of strings"),
    imagePullSecrets: pullSecrets as { name: string; namespace: string }[],
    sharedNamespace: field("shared_namespace", isStr, "", "a string"),
    workspacesQuota: field("workspaces_quota", isInt, -1, "an integer"),
    workspacesPerUserQuota: field("workspaces_per_user_quota", isInt, -1, "an integer"),
    gitlabWorkspacesProxyNamespace:
      typeof proxy.namespace === "string" ? proxy.namespace : "gitlab-workspaces",
  };
}
