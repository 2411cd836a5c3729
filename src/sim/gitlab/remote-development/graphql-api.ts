// POST /api/graphql: GitLab's workspaces API, executed by graphql-js over the schema in schema.graphql.ts.
// Business failures come back in the payload's `errors`; what GitLab raises (licence, missing or
// inaccessible objects, arguments it refuses) and anything malformed come back in the top-level `errors`,
// with graphql-ruby's wording where clients match on it.

import {
  type DocumentNode,
  execute,
  extendSchema,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  Kind,
  parse,
  print,
  validate,
} from "graphql";
import { ApiError } from "../errors.ts";
import { type Group, groupAncestry } from "../groups-api.ts";
import type { RequestContext, Router } from "../http.ts";
import type { Project, Store, User } from "../store.ts";
import { GlobalIdError, globalId, parseGlobalId } from "./global-id.ts";
import type { ClusterAgent, RemoteDevelopment, Workspace, WorkspaceVariable } from "./model.ts";
import { WORKSPACES_SDL } from "./schema.graphql.ts";
import { createWorkspace, updateWorkspace } from "./workspace-create.ts";

const NOT_AVAILABLE =
  "The resource that you are attempting to access does not exist or you don't have permission to perform this action";
const UNLICENSED = "'remote_development' licensed feature is not available";

/** A global-ID scalar of one model: the resolvers get the numeric id. */
function globalIdScalar(name: string, model: string): GraphQLScalarType<number, string> {
  const coerce = (value: unknown) => {
    try {
      return parseGlobalId(value, model);
    } catch (err) {
      if (err instanceof GlobalIdError) throw new GraphQLError(err.message);
      throw err;
    }
  };
  return new GraphQLScalarType<number, string>({
    name,
    description: `A \`${name}\` is a global ID. It is encoded as a string, e.g. "gid://gitlab/${model}/1".`,
    coerceOutputValue: (value) => (typeof value === "number" ? globalId(model, value) : String(value)),
    coerceInputValue: coerce,
    coerceInputLiteral: (node) => {
      if (node.kind !== Kind.STRING)
        throw new GraphQLError(`${JSON.stringify(node.kind)} is not a valid Global ID`);
      return coerce(node.value);
    },
  });
}

const TimeScalar = new GraphQLScalarType<Date, string>({
  name: "Time",
  description: "Time represented in ISO 8601.",
  coerceOutputValue: (value) => (value instanceof Date ? value.toISOString() : String(value)),
  coerceInputValue: (value) => new Date(String(value)),
});

function buildSchema(): GraphQLSchema {
  const scalars = [
    globalIdScalar("RemoteDevelopmentWorkspaceID", "RemoteDevelopment::Workspace"),
    globalIdScalar("ClustersAgentID", "Clusters::Agent"),
    globalIdScalar("ProjectID", "Project"),
    globalIdScalar("UserID", "User"),
    globalIdScalar("NamespaceID", "Namespace"),
    TimeScalar,
  ];
  // extendSchema keeps these scalar objects, so the SDL's references get their coercion.
  return extendSchema(new GraphQLSchema({ types: scalars }), parse(WORKSPACES_SDL));
}

interface Context {
  rd: RemoteDevelopment;
  store: Store;
  user: User | undefined;
  /** The instance's URL (its external URL), for web and clone URLs. */
  baseUrl: string;
}

function connection<T>(items: T[]) {
  return {
    count: items.length,
    nodes: items,
    edges: items.map((node, i) => ({ cursor: Buffer.from(String(i)).toString("base64"), node })),
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

function projectView(ctx: Context, p: Project) {
  return {
    id: globalId("Project", p.id),
    fullPath: p.fullPath,
    name: p.name,
    webUrl: `${ctx.baseUrl}/${p.fullPath}`,
    httpUrlToRepo: `${ctx.baseUrl}/${p.fullPath}.git`,
    clusterAgents: () =>
      connection(
        [...ctx.rd.agents.values()].filter((a) => a.projectId === p.id).map((a) => agentView(ctx, a)),
      ),
  };
}

function groupView(ctx: Context, group: Group) {
  const inGroup = (a: ClusterAgent) =>
    ctx.store.projects.get(a.projectId)?.fullPath.startsWith(`${group.fullPath}/`) ?? false;
  const mappedHere = (a: ClusterAgent) => ctx.rd.mappings.get(group.id)?.has(a.id) ?? false;
  const mappedAbove = (a: ClusterAgent) =>
    groupAncestry(ctx.store, group).some((g) => ctx.rd.mappings.get(g.id)?.has(a.id));
  const filters: Record<string, (a: ClusterAgent) => boolean> = {
    DIRECTLY_MAPPED: mappedHere,
    AVAILABLE: mappedAbove,
    UNMAPPED: (a) => inGroup(a) && !mappedHere(a),
    ALL: inGroup,
  };
  return {
    id: globalId("Group", group.id),
    fullPath: group.fullPath,
    name: group.name,
    webUrl: `${ctx.baseUrl}/groups/${group.fullPath}`,
    workspacesClusterAgents: ({ filter }: { filter: string }) =>
      connection([...ctx.rd.agents.values()].filter(filters[filter]!).map((a) => agentView(ctx, a))),
  };
}

function agentView(ctx: Context, a: ClusterAgent) {
  return {
    id: a.id,
    name: a.name,
    createdAt: a.createdAt,
    project: () => projectView(ctx, ctx.store.project(a.projectId)),
    workspaces: () =>
      connection(
        visibleWorkspaces(ctx)
          .filter((w) => w.agentId === a.id)
          .map((w) => workspaceView(ctx, w)),
      ),
  };
}

function userView(ctx: Context, u: User) {
  return { id: u.id, username: u.username, name: u.name, webUrl: `${ctx.baseUrl}/${u.username}` };
}

function variableView(ws: Workspace, v: WorkspaceVariable, i: number) {
  return {
    id: `gid://gitlab/RemoteDevelopment::WorkspaceVariable/${ws.id * 1000 + i}`,
    key: v.key,
    value: v.value,
    variableType: v.variableType,
    createdAt: ws.createdAt,
    updatedAt: ws.createdAt,
  };
}

function workspaceView(ctx: Context, w: Workspace) {
  return {
    id: w.id,
    name: w.name,
    namespace: w.namespace,
    clusterAgent: () => agentView(ctx, ctx.rd.agents.get(w.agentId)!),
    projectId: globalId("Project", w.projectId),
    user: () => userView(ctx, ctx.store.users.get(w.userId)!),
    desiredState: w.desiredState,
    desiredStateUpdatedAt: w.desiredStateUpdatedAt,
    actualState: w.actualState,
    actualStateUpdatedAt: w.actualStateUpdatedAt,
    respondedToAgentAt: w.respondedToAgentAt,
    url: w.url,
    projectRef: w.projectRef,
    devfileRef: w.projectRef,
    devfilePath: w.devfilePath,
    devfile: w.devfile,
    processedDevfile: w.devfile,
    deploymentResourceVersion:
      w.deploymentResourceVersion === null ? null : Number(w.deploymentResourceVersion),
    forceIncludeAllResources: w.forceIncludeAllResources,
    editor: "webide",
    workspaceVariables: () => ({ nodes: w.variables.map((v, i) => variableView(w, v, i)) }),
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}

/** The workspaces a user may see: their own; an admin (root) sees every one. */
function visibleWorkspaces(ctx: Context): Workspace[] {
  if (!ctx.user) return [];
  return [...ctx.rd.workspaces.values()].filter((w) => w.userId === ctx.user!.id);
}

interface WorkspaceFilters {
  ids?: number[];
  userIds?: number[];
  projectIds?: number[];
  agentIds?: number[];
  actualStates?: string[];
}

function filtered(items: Workspace[], f: WorkspaceFilters): Workspace[] {
  return items.filter(
    (w) =>
      (!f.ids || f.ids.includes(w.id)) &&
      (!f.userIds || f.userIds.includes(w.userId)) &&
      (!f.projectIds || f.projectIds.includes(w.projectId)) &&
      (!f.agentIds || f.agentIds.includes(w.agentId)) &&
      (!f.actualStates || f.actualStates.includes(w.actualState)),
  );
}

function requireLicence(ctx: Context): void {
  if (!ctx.rd.options.licensed) throw new GraphQLError(UNLICENSED);
}

function requireUser(ctx: Context): User {
  if (!ctx.user) throw new GraphQLError(NOT_AVAILABLE);
  return ctx.user;
}

interface VariableInput {
  key: string;
  value: string;
  type?: "ENVIRONMENT" | "FILE";
  variableType?: "ENVIRONMENT" | "FILE";
}

function rootValue(ctx: Context) {
  const findProject = (id: number) => {
    try {
      return ctx.store.project(id);
    } catch {
      throw new GraphQLError(NOT_AVAILABLE);
    }
  };
  const findAgent = (id: number) => {
    const agent = ctx.rd.agents.get(id);
    if (!agent) throw new GraphQLError(NOT_AVAILABLE);
    return agent;
  };
  return {
    currentUser: () => {
      if (!ctx.user) return null;
      return {
        ...userView(ctx, ctx.user),
        workspaces: (args: WorkspaceFilters) => {
          requireLicence(ctx);
          return connection(filtered(visibleWorkspaces(ctx), args).map((w) => workspaceView(ctx, w)));
        },
      };
    },
    workspace: ({ id }: { id: number }) => {
      requireLicence(ctx);
      requireUser(ctx);
      const ws = visibleWorkspaces(ctx).find((w) => w.id === id);
      if (!ws) throw new GraphQLError(NOT_AVAILABLE);
      return workspaceView(ctx, ws);
    },
    workspaces: (args: WorkspaceFilters) => {
      requireLicence(ctx);
      const all = ctx.user?.username === "root" ? [...ctx.rd.workspaces.values()] : [];
      return connection(filtered(all, args).map((w) => workspaceView(ctx, w)));
    },
    group: ({ fullPath }: { fullPath: string }) => {
      if (!ctx.user) return null;
      const group = [...ctx.store.groups.values()].find(
        (g) => g.fullPath.toLowerCase() === fullPath.toLowerCase(),
      );
      return group ? groupView(ctx, group) : null;
    },
    project: ({ fullPath }: { fullPath: string }) => {
      if (!ctx.user) return null;
      try {
        return projectView(ctx, ctx.store.project(fullPath));
      } catch {
        return null;
      }
    },
    workspaceCreate: async ({ input }: { input: Record<string, unknown> }) => {
      requireLicence(ctx);
      const user = requireUser(ctx);
      const project = findProject(input.projectId as number);
      const ref = (input.projectRef ?? input.devfileRef) as string | undefined | null;
      if (!ref) throw new GraphQLError("Either 'project_ref' or deprecated 'devfile_ref' must be provided.");
      const agent = findAgent(input.clusterAgentId as number);
      if (!ctx.rd.isMapped(agent, project))
        throw new GraphQLError(
          "The provided agent provided must be mapped to an ancestor namespace of the workspace's project.",
        );
      // "If 'workspace_variables' is not specified, use 'variables' arg"
      const given = (input.workspaceVariables ?? input.variables ?? []) as VariableInput[];
      const outcome = await createWorkspace(ctx.rd, {
        user,
        project,
        agent,
        desiredState: input.desiredState as string,
        projectRef: ref,
        devfilePath: (input.devfilePath as string | null | undefined) ?? null,
        variables: given.map((v) => ({
          key: v.key,
          value: v.value,
          variableType: v.variableType ?? v.type ?? "ENVIRONMENT",
        })),
      });
      return {
        clientMutationId: input.clientMutationId ?? null,
        errors: outcome.errors,
        workspace: outcome.workspace ? workspaceView(ctx, outcome.workspace) : null,
      };
    },
    workspaceUpdate: ({
      input,
    }: {
      input: { id: number; desiredState: string; clientMutationId?: string };
    }) => {
      requireLicence(ctx);
      requireUser(ctx);
      const ws = visibleWorkspaces(ctx).find((w) => w.id === input.id);
      if (!ws) throw new GraphQLError(NOT_AVAILABLE);
      const errors = updateWorkspace(ws, input.desiredState);
      return {
        clientMutationId: input.clientMutationId ?? null,
        errors,
        workspace: errors.length ? null : workspaceView(ctx, ws),
      };
    },
    namespaceCreateRemoteDevelopmentClusterAgentMapping: ({
      input,
    }: {
      input: { clusterAgentId: number; namespaceId: number; clientMutationId?: string };
    }) => {
      requireLicence(ctx);
      const user = requireUser(ctx);
      const agent = findAgent(input.clusterAgentId);
      const namespace = ctx.rd.namespace(input.namespaceId);
      if (!namespace) throw new GraphQLError(NOT_AVAILABLE);
      const mapped = ctx.rd.mappings.get(namespace.id) ?? new Set<number>();
      if (mapped.has(agent.id))
        return {
          clientMutationId: input.clientMutationId ?? null,
          errors: ["Namespace cluster agent mapping already exists"],
          namespaceClusterAgentMapping: null,
        };
      mapped.add(agent.id);
      ctx.rd.mappings.set(namespace.id, mapped);
      return {
        clientMutationId: input.clientMutationId ?? null,
        errors: [],
        namespaceClusterAgentMapping: {
          id: `gid://gitlab/RemoteDevelopment::NamespaceClusterAgentMapping/${namespace.id * 1000 + agent.id}`,
          clusterAgentId: agent.id,
          namespaceId: namespace.id,
          creatorId: user.id,
          createdAt: new Date(),
        },
      };
    },
  };
}

/** graphql-js's validation messages in graphql-ruby's words, for the cases clients and tests match on. */
const TOKEN_NAMES: Record<string, string> = {
  "{": "LCURLY",
  "}": "RCURLY",
  "(": "LPAREN",
  ")": "RPAREN",
  "[": "LBRACKET",
  "]": "RBRACKET",
  ":": "COLON",
  "!": "BANG",
  "=": "EQUALS",
  $: "VAR_SIGN",
};

function rubyMessage(
  err: GraphQLError,
  variableTypes: Record<string, string>,
): { message: string; extensions?: Record<string, unknown> } {
  const m = err.message;
  let match = /^Cannot query field "(\w+)" on type "(\w+)"\./.exec(m);
  if (match)
    return {
      message: `Field '${match[1]}' doesn't exist on type '${match[2]}'`,
      extensions: { code: "undefinedField", typeName: match[2], fieldName: match[1] },
    };
  match = /^Argument "\w+\.(\w+)\((\w+):\)" of type "[^"]+" is required, but it was not provided\./.exec(m);
  if (match)
    return {
      message: `Field '${match[1]}' is missing required arguments: ${match[2]}`,
      extensions: {
        code: "missingRequiredArguments",
        className: "Field",
        name: match[1],
        arguments: match[2],
      },
    };
  match = /^Expected value of type "(\w+)" not to include unknown field "(\w+)"/.exec(m);
  if (match)
    return {
      message: `InputObject '${match[1]}' doesn't accept argument '${match[2]}'`,
      extensions: {
        code: "argumentNotAccepted",
        name: match[1],
        typeName: "InputObject",
        argumentName: match[2],
      },
    };
  if (/^Syntax Error: .*<EOF>/.test(m)) return { message: "Unexpected end of document" };
  match = /^Syntax Error: .*found "(.+)"\.$|^Syntax Error: Unexpected "(.+)"\.$/.exec(m);
  if (match) {
    const token = match[1] ?? match[2] ?? "";
    const at = err.locations?.[0];
    const kind = TOKEN_NAMES[token] ? ` (${TOKEN_NAMES[token]})` : "";
    return { message: `Parse error on "${token}"${kind}${at ? ` at [${at.line}, ${at.column}]` : ""}` };
  }
  match = /^Variable "\$(\w+)" has invalid value(?: at \.?([^:]+))?: (.*)$/s.exec(m);
  if (match) {
    const [, name = "", path, explanation = ""] = match;
    return {
      message: `Variable $${name} of type ${variableTypes[name] ?? "?"} was provided invalid value${path ? ` for ${path}` : ""}`,
      extensions: { problems: [{ path: path ? path.split(".") : [], explanation }] },
    };
  }
  if (/is not a valid Global ID$|does not represent an instance of /.test(m))
    return { message: m, extensions: { code: "argumentLiteralsIncompatible", typeName: "CoercionError" } };
  return { message: m };
}

function errorJson(err: GraphQLError, variableTypes: Record<string, string> = {}) {
  const { message, extensions } = rubyMessage(err, variableTypes);
  return {
    message,
    ...(err.locations ? { locations: err.locations } : {}),
    ...(err.path ? { path: err.path } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

export function registerGraphqlApi(router: Router, rd: RemoteDevelopment, store: Store): void {
  const schema = buildSchema();
  const handle = async (ctx: RequestContext) => {
    const header =
      ctx.req.headers["private-token"] ?? ctx.req.headers.authorization?.replace(/^Bearer\s+/i, "");
    const token = Array.isArray(header) ? header[0] : header;
    let user: User | undefined;
    if (token) {
      const id = store.tokens.get(token);
      if (id === undefined) throw new ApiError(401, { errors: [{ message: "Invalid token" }] });
      user = store.users.get(id);
    }
    const query = ctx.input.query;
    if (typeof query !== "string" || query.trim() === "")
      return { status: 200, body: { errors: [{ message: "No query string was present" }] } };
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (err) {
      if (err instanceof GraphQLError) return { status: 200, body: { errors: [errorJson(err)] } };
      throw err;
    }
    const invalid = validate(schema, document);
    if (invalid.length) return { status: 200, body: { errors: invalid.map((e) => errorJson(e)) } };
    const variables = ctx.input.variables;
    const variableTypes: Record<string, string> = {};
    for (const def of document.definitions)
      if (def.kind === Kind.OPERATION_DEFINITION)
        for (const v of def.variableDefinitions ?? []) variableTypes[v.variable.name.value] = print(v.type);
    const context: Context = { rd, store, user, baseUrl: ctx.baseUrl };
    const result = await execute({
      schema,
      document,
      rootValue: rootValue(context),
      contextValue: context,
      variableValues:
        typeof variables === "string" && variables !== ""
          ? (JSON.parse(variables) as Record<string, unknown>)
          : ((variables as Record<string, unknown> | undefined) ?? {}),
      operationName: typeof ctx.input.operationName === "string" ? ctx.input.operationName : undefined,
    });
    const body: Record<string, unknown> = {};
    if (result.errors?.length) body.errors = result.errors.map((e) => errorJson(e, variableTypes));
    if ("data" in result && result.data !== undefined) body.data = result.data;
    return { status: 200, body };
  };
  router.on("POST", "/api/graphql", handle);
  router.on("GET", "/api/graphql", handle);
}
