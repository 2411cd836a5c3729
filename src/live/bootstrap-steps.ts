// The bootstrap's steps, in order, as data: `live up --dry-run` prints them and src/live/bootstrap.ts runs them.
export interface BootstrapStepInfo {
  id: string;
  title: string;
}

export const BOOTSTRAP_STEPS: BootstrapStepInfo[] = [
  {
    id: "token",
    title:
      "an administrator token (gitlab-rails runner in the gitlab container; given with --token for an existing GitLab)",
  },
  { id: "group", title: "group wsparity (GET /groups, POST /groups)" },
  {
    id: "project",
    title:
      "project wsparity/workspaces with the scenarios' devfiles committed (POST /projects, POST /projects/:id/repository/commits)",
  },
  {
    id: "agent-config",
    title:
      "agent config .gitlab/agents/wsparity/config.yaml (remote_development enabled, dns_zone, network policy)",
  },
  {
    id: "agent",
    title: "cluster agent wsparity and its token (POST /projects/:id/cluster_agents, POST …/tokens)",
  },
  {
    id: "agentk",
    title: "agentk installed into the cluster with that token, and connected (GitLab has heard from it)",
  },
  {
    id: "mapping",
    title: "the agent mapped to the group (GraphQL namespaceCreateRemoteDevelopmentClusterAgentMapping)",
  },
  {
    id: "runners",
    title: "a runner per executor, tagged per architecture it serves (POST /user/runners)",
  },
  {
    id: "register",
    title:
      "each runner registered where it runs with its token (gitlab-runner register --template-config, then verify)",
  },
  { id: "settings", title: "the tier settings file the harness reads (the same one sim up writes)" },
];

/**
 * What the stacks `live up` brings up are bootstrapped as (docker-compose.yml serves this dns_zone); `live init`
 * offers the same as its defaults.
 */
export const STACK_NAMES = {
  group: "wsparity",
  project: "workspaces",
  agentName: "wsparity",
  dnsZone: "workspaces.localtest",
} as const;
