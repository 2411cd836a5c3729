// A GitLab simulator prepared the way an administrator prepares GitLab for workspaces: a project holding a
// devfile and an agent config, a registered agent with a token, and the agent mapped to the namespace.
import { readFileSync } from "node:fs";
import { Gitlab } from "@gitbeaker/rest";
import { GitLabSimulator, type GitLabSimulatorOptions } from "../../src/sim/gitlab/index.ts";

export const AGENT_CONFIG = `remote_development:
  enabled: true
  dns_zone: workspaces.localtest
`;

export interface PreparedGitLab {
  sim: GitLabSimulator;
  url: string;
  token: string;
  projectId: number;
  agentId: number;
  agentToken: string;
  graphql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphqlAnswer>;
  reconcile(body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

export interface GraphqlAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: GraphQL answers are read field by field in tests
  body: { data?: any; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] };
}

export async function graphqlAt(
  url: string,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphqlAnswer> {
  const res = await fetch(`${url}/api/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphqlAnswer["body"] };
}

export async function prepareGitLab(
  options: GitLabSimulatorOptions = {},
  devfiles: Record<string, string> = {
    ".devfile.yaml": readFileSync("scenarios/devfiles/parity.devfile.yaml", "utf8"),
  },
): Promise<PreparedGitLab> {
  const sim = await new GitLabSimulator(options).start();
  const api = new Gitlab({ host: sim.url, token: sim.rootToken });
  const project = await api.Projects.create({ name: "workspaces", initializeWithReadme: true });
  await api.Commits.create(project.id, "main", "devfile and agent config [ci skip]", [
    ...Object.entries(devfiles).map(([filePath, content]) => ({
      action: "create" as const,
      filePath,
      content,
    })),
    { action: "create", filePath: ".gitlab/agents/wsparity/config.yaml", content: AGENT_CONFIG },
  ]);
  const agent = await api.Agents.register(project.id, "wsparity");
  const agentId = agent.id;
  // @gitbeaker/rest 43.8.0's Agents.createToken sends a GET (a list), so the token is created by hand.
  const tokenRes = await fetch(`${sim.url}/api/v4/projects/${project.id}/cluster_agents/${agentId}/tokens`, {
    method: "POST",
    headers: { "private-token": sim.rootToken, "content-type": "application/json" },
    body: JSON.stringify({ name: "agentk" }),
  });
  const token = (await tokenRes.json()) as { token: string };
  const prepared: PreparedGitLab = {
    sim,
    url: sim.url,
    token: sim.rootToken,
    projectId: project.id as number,
    agentId,
    agentToken: token.token,
    graphql: (query, variables, t = sim.rootToken) => graphqlAt(sim.url, t, query, variables),
    async reconcile(body, t = prepared.agentToken) {
      const res = await fetch(`${sim.url}/api/v4/internal/kubernetes/modules/remote_development/reconcile`, {
        method: "POST",
        headers: { "content-type": "application/json", "Gitlab-Agent-Api-Request": t },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
  return prepared;
}
