// The Kubernetes path as GitLab runs it, for `wsparity sim up`: a project with the agent's config, the agent
// registered and mapped to the namespace, agentk reconciling with the GitLab simulator, and the workspaces
// proxy in front of the cluster. Users then create workspaces through GraphQL, as on GitLab.
import { GitLabUserAuth } from "../workspaces-proxy/gitlab-auth.ts";
import { WorkspacesProxy } from "../workspaces-proxy/server.ts";
import { WorkspaceUpstreams } from "../workspaces-proxy/upstream.ts";
import type { GitLabSimulator } from "./gitlab/index.ts";
import type { KubernetesSim } from "./kubernetes/index.ts";
import type { SimService } from "./up.ts";
import { startWorkspacesAgent } from "./workspaces-agent.ts";

export const WORKSPACES_DNS_ZONE = "workspaces.localtest";
export const AGENT_NAME = "wsparity";

export const workspacesService: SimService<{ proxy: WorkspacesProxy }> = {
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
      const project = gitlab.store.createProject(
        "workspaces",
        "workspaces",
        "Workspaces and their agent",
        gitlab.root,
      );
      const agent = await startWorkspacesAgent(gitlab, project, cluster, {
        agentName: AGENT_NAME,
        dnsZone: WORKSPACES_DNS_ZONE,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      return {
        handle: { proxy },
        env: {
          GITLAB_PROJECT_ID: String(project.id),
          GITLAB_AGENT_ID: agent.agentGid,
          GITLAB_AGENT_TOKEN: agent.agentToken,
          WORKSPACES_PROXY_URL: `http://127.0.0.1:${proxy.port}`,
          WORKSPACES_DNS_ZONE,
        },
        usage: [
          `Workspaces: agentk reconciles agent ${AGENT_NAME} (GITLAB_AGENT_ID) of project root/workspaces; create one with GraphQL workspaceCreate at $GITLAB_URL/api/graphql`,
          `  workspaces proxy at $WORKSPACES_PROXY_URL: curl -H "Authorization: Bearer $GITLAB_TOKEN" --resolve 60001-<workspace>.${WORKSPACES_DNS_ZONE}:${proxy.port}:127.0.0.1 http://60001-<workspace>.${WORKSPACES_DNS_ZONE}:${proxy.port}/`,
        ],
        async stop() {
          await agent.stop();
          await proxy.stop();
        },
      };
    } catch (err) {
      await proxy.stop();
      throw err;
    }
  },
};
