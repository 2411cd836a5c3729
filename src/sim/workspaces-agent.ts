// The Kubernetes path's GitLab side for one cluster, set up as an administrator would: the agent's config
// committed to the project, the agent and its token registered, the agent mapped to the project's namespace,
// and agentk reconciling the cluster with GitLab. `sim up` and the local tiers share it.
import { Agentk } from "../agentk/agentk.ts";
import type { GitLabSimulator } from "./gitlab/index.ts";
import type { Project } from "./gitlab/store.ts";
import type { KubernetesSim } from "./kubernetes/index.ts";

export interface StartedWorkspacesAgent {
  /** gid://gitlab/Clusters::Agent/<id> */
  agentGid: string;
  agentToken: string;
  stop(): Promise<void>;
}

export async function startWorkspacesAgent(
  gitlab: GitLabSimulator,
  project: Project,
  cluster: KubernetesSim,
  options: { agentName: string; dnsZone: string; log: (line: string) => void },
): Promise<StartedWorkspacesAgent> {
  const { remoteDevelopment: rd } = gitlab;
  const head = project.repo.head(project.repo.defaultBranch)!;
  project.repo.commit(
    project.repo.defaultBranch,
    new Map([
      ...head.files,
      [
        `.gitlab/agents/${options.agentName}/config.yaml`,
        Buffer.from(`remote_development:\n  enabled: true\n  dns_zone: ${options.dnsZone}\n`),
      ],
    ]),
    `Add agent ${options.agentName}'s workspaces config`,
    { name: gitlab.root.name, email: gitlab.root.email },
    head.sha,
  );
  const agent = rd.createAgent(project, options.agentName, gitlab.root.id);
  const token = rd.createAgentToken(agent, "agentk", options.agentName, gitlab.root.id);
  const namespace = rd.namespaceOf(project).id;
  rd.mappings.set(namespace, new Set([...(rd.mappings.get(namespace) ?? []), agent.id]));
  const agentk = await new Agentk({
    gitlabUrl: gitlab.url,
    token: token.token,
    kc: cluster.kubeConfig(),
    log: options.log,
  }).start();
  return {
    agentGid: `gid://gitlab/Clusters::Agent/${agent.id}`,
    agentToken: token.token,
    stop: () => agentk.stop(),
  };
}
