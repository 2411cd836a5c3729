// The cluster agents REST API (register an agent, issue its glagent- token) and the internal API KAS
// forwards agentk's requests to: agent_info, and the remote_development module's prerequisites and
// reconcile. agentk's token authenticates, as KAS passes it on.
import { ApiError, badRequest, forbidden, missing, notFound, unauthorized } from "../errors.ts";
import type { RequestContext, Router } from "../http.ts";
import { authenticate } from "../rest-api.ts";
import type { Store } from "../store.ts";
import { AgentConfigError, INVALID_AGENT_CONFIG, readWorkspacesAgentConfig } from "./agent-config.ts";
import type { AgentToken, ClusterAgent, RemoteDevelopment } from "./model.ts";
import { ReconcileParamsError, reconcile, validateReconcileParams } from "./reconcile.ts";

const API = "/api/v4";
const INTERNAL = `${API}/internal/kubernetes`;
export const UNLICENSED = '"remote_development" licensed feature is not available';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function agentJson(rd: RemoteDevelopment, agent: ClusterAgent, baseUrl: string) {
  const project = rd.store.project(agent.projectId);
  return {
    id: agent.id,
    name: agent.name,
    config_project: {
      id: project.id,
      name: project.name,
      path: project.path,
      path_with_namespace: project.fullPath,
      web_url: `${baseUrl}/${project.fullPath}`,
      created_at: iso(project.createdAt),
    },
    created_at: iso(agent.createdAt),
    created_by_user_id: agent.createdByUserId,
  };
}

function tokenJson(t: AgentToken) {
  return {
    id: t.id,
    name: t.name,
    description: t.description || null,
    agent_id: t.agentId,
    status: t.status,
    created_at: iso(t.createdAt),
    created_by_user_id: t.createdByUserId,
    last_used_at: iso(t.lastUsedAt),
  };
}

/** Reads the agent's config file from its project's default branch, as KAS sends it to Rails on connect. */
export function refreshAgentConfig(rd: RemoteDevelopment, agent: ClusterAgent): void {
  const project = rd.store.project(agent.projectId);
  const file = `.gitlab/agents/${agent.name}/config.yaml`;
  const blob = project.repo.head(project.repo.defaultBranch)?.files.get(file);
  try {
    agent.config = blob ? readWorkspacesAgentConfig(blob.toString("utf8"), file) : undefined;
    agent.configError = undefined;
  } catch (err) {
    if (!(err instanceof AgentConfigError)) throw err;
    agent.config = undefined;
    agent.configError = err.message;
  }
}

export function registerAgentsApi(router: Router, rd: RemoteDevelopment, store: Store): void {
  const agentOf = (ctx: RequestContext) => {
    authenticate(store, ctx);
    const project = store.project(ctx.params.id!);
    const agent = rd.agents.get(Number(ctx.params.agent_id));
    if (!agent || agent.projectId !== project.id) throw notFound("Agent");
    return agent;
  };

  router.on("POST", `${API}/projects/:id/cluster_agents`, (ctx) => {
    const user = authenticate(store, ctx);
    const project = store.project(ctx.params.id!);
    const name = ctx.input.name;
    if (name === undefined || name === "") throw missing("name");
    if (typeof name !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
      throw new ApiError(400, {
        message: {
          name: ["can contain only lowercase letters, digits, and '-', but cannot start or end with '-'"],
        },
      });
    if ([...rd.agents.values()].some((a) => a.projectId === project.id && a.name === name))
      throw new ApiError(400, { message: { name: ["has already been taken"] } });
    return { status: 201, body: agentJson(rd, rd.createAgent(project, name, user.id), ctx.baseUrl) };
  });

  router.on("GET", `${API}/projects/:id/cluster_agents`, (ctx) => {
    authenticate(store, ctx);
    const project = store.project(ctx.params.id!);
    const agents = [...rd.agents.values()].filter((a) => a.projectId === project.id);
    return { status: 200, body: agents.map((a) => agentJson(rd, a, ctx.baseUrl)) };
  });

  router.on("GET", `${API}/projects/:id/cluster_agents/:agent_id`, (ctx) => ({
    status: 200,
    body: agentJson(rd, agentOf(ctx), ctx.baseUrl),
  }));

  router.on("POST", `${API}/projects/:id/cluster_agents/:agent_id/tokens`, (ctx) => {
    const agent = agentOf(ctx);
    const user = authenticate(store, ctx);
    const name = ctx.input.name;
    if (name === undefined || name === "") throw missing("name");
    if (typeof name !== "string") throw badRequest("name is invalid");
    const active = [...rd.agentTokens.values()].filter(
      (t) => t.agentId === agent.id && t.status === "active",
    );
    if (active.length >= 2)
      throw new ApiError(400, { message: "An agent can have only two active tokens at a time" });
    const description = typeof ctx.input.description === "string" ? ctx.input.description : "";
    const token = rd.createAgentToken(agent, name, description, user.id);
    return { status: 201, body: { ...tokenJson(token), token: token.token } };
  });

  router.on("GET", `${API}/projects/:id/cluster_agents/:agent_id/tokens`, (ctx) => {
    const agent = agentOf(ctx);
    const tokens = [...rd.agentTokens.values()].filter(
      (t) => t.agentId === agent.id && t.status === "active",
    );
    return { status: 200, body: tokens.map(tokenJson) };
  });

  // agentk → KAS → Rails. KAS authenticates the agent by its token and forwards it; the simulator has no
  // KAS, so agentk's token arrives here directly, in the header KAS uses or as a bearer token.
  const agentFromToken = (ctx: RequestContext): ClusterAgent => {
    const header = ctx.req.headers["gitlab-agent-api-request"];
    const token =
      (Array.isArray(header) ? header[0] : header) ??
      ctx.req.headers.authorization?.replace(/^Bearer\s+/i, "");
    const agent = rd.agentByToken(token);
    if (!agent) throw unauthorized();
    refreshAgentConfig(rd, agent);
    return agent;
  };

  router.on("GET", `${INTERNAL}/agent_info`, (ctx) => {
    const agent = agentFromToken(ctx);
    const project = store.project(agent.projectId);
    return {
      status: 200,
      body: {
        project_id: project.id,
        agent_id: agent.id,
        agent_name: agent.name,
        default_branch: project.repo.defaultBranch,
      },
    };
  });

  const requireWorkspacesConfig = (agent: ClusterAgent) => {
    if (!rd.options.licensed) throw new ApiError(403, { message: `403 Forbidden - ${UNLICENSED}` });
    if (agent.configError)
      throw new ApiError(406, { message: `406 Not Acceptable - ${INVALID_AGENT_CONFIG}` });
  };

  router.on("GET", `${INTERNAL}/modules/remote_development/prerequisites`, (ctx) => {
    const agent = agentFromToken(ctx);
    requireWorkspacesConfig(agent);
    return { status: 200, body: {} };
  });

  router.on("POST", `${INTERNAL}/modules/remote_development/reconcile`, (ctx) => {
    const agent = agentFromToken(ctx);
    requireWorkspacesConfig(agent);
    if (!agent.config?.enabled) throw forbidden();
    let params: ReturnType<typeof validateReconcileParams>;
    try {
      params = validateReconcileParams(ctx.input);
    } catch (err) {
      if (err instanceof ReconcileParamsError)
        throw new ApiError(400, { error: `Workspace reconcile params validation failed: ${err.message}` });
      throw err;
    }
    return { status: 201, body: reconcile(rd, agent, params.updateType, params.infos) };
  });
}
