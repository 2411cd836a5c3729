// The Kubernetes path as GitLab runs it, for `wsparity sim up`: a project with the agent's config, the agent
// registered and mapped to the namespace, agentk reconciling with the GitLab simulator, and the workspaces
// proxy in front of the cluster. Users then create workspaces through GraphQL, as on GitLab.
import { Agentk } from "../agentk/agentk.ts";
import { GitLabUserAuth } from "../workspaces-proxy/gitlab-auth.ts";
import { WorkspacesProxy } from "../workspaces-proxy/server.ts";
import { WorkspaceUpstreams } from "../workspaces-proxy/upstream.ts";
import type { GitLabSimulator } from "./gitlab/index.ts";
import type { KubernetesSim } from "./kubernetes/index.ts";
import type { SimService } from "./up.ts";

export const WORKSPACES_DNS_ZONE = "workspaces.localtest";
export const AGENT_NAME = "wsparity";

export const workspacesService: SimService<{ agentk: Agentk; proxy: WorkspacesProxy }> = {
  name: "workspaces",
  async start(ctx) {
    const gitlab = ctx.handle<GitLabSimulator>("gitlab");
    const cluster = ctx.handle<KubernetesSim>("kubernetes");
    const kc = cluster.kubeConfig();
    const proxy = await new WorkspacesProxy({
      dnsZone: WORKSPACES_DNS_ZONE,
      auth: new GitLabUserAuth(gitlab.url),
      upstreams: new WorkspaceUpstreams(kc, cluster.connect),
    }).start();
    try {
      gitlab.remoteDevelopment.options.workspacesProxy = { scheme: "http", port: proxy.port };
      // An instance setting GitLab lets administrators lower (its default is 10 s): a workspace here starts
      // within seconds of its pod, not within one default interval.
      gitlab.remoteDevelopment.options.partialReconciliationIntervalSeconds = 2;
      const { store, remoteDevelopment: rd } = gitlab;
      const project = store.createProject(
        "workspaces",
        "workspaces",
        "Workspaces and their agent",
        gitlab.root,
      );
      project.repo.commit(
        "main",
        new Map([
          ...project.repo.head("main")!.files,
          [
            `.gitlab/agents/${AGENT_NAME}/config.yaml`,
            Buffer.from(`remote_development:\n  enabled: true\n  dns_zone: ${WORKSPACES_DNS_ZONE}\n`),
          ],
        ]),
        "Add the agent's workspaces config",
        { name: gitlab.root.name, email: gitlab.root.email },
        project.repo.head("main")!.sha,
      );
      const agent = rd.createAgent(project, AGENT_NAME, gitlab.root.id);
      const token = rd.createAgentToken(agent, "agentk", "sim up", gitlab.root.id);
      rd.mappings.set(rd.namespaceOf(project).id, new Set([agent.id]));
      const agentk = await new Agentk({
        gitlabUrl: gitlab.url,
        token: token.token,
        kc,
        log: (line) => process.stderr.write(`${line}\n`),
      }).start();
      return {
        handle: { agentk, proxy },
        env: {
          GITLAB_PROJECT_ID: String(project.id),
          GITLAB_AGENT_ID: `gid://gitlab/Clusters::Agent/${agent.id}`,
          GITLAB_AGENT_TOKEN: token.token,
          WORKSPACES_PROXY_URL: `http://127.0.0.1:${proxy.port}`,
          WORKSPACES_DNS_ZONE,
        },
        usage: [
          `Workspaces: agentk reconciles agent ${AGENT_NAME} (GITLAB_AGENT_ID) of project root/workspaces; create one with GraphQL workspaceCreate at $GITLAB_URL/api/graphql`,
          `  workspaces proxy at $WORKSPACES_PROXY_URL: curl -H "Authorization: Bearer $GITLAB_TOKEN" --resolve 60001-<workspace>.${WORKSPACES_DNS_ZONE}:${proxy.port}:127.0.0.1 http://60001-<workspace>.${WORKSPACES_DNS_ZONE}:${proxy.port}/`,
        ],
        async stop() {
          await agentk.stop();
          await proxy.stop();
        },
      };
    } catch (err) {
      await proxy.stop();
      throw err;
    }
  },
};
