// Groups (REST API v4 /groups) and the namespaces projects live in: root's user namespace (id 1) or a
// group, whose ids share one space with it as GitLab's namespaces table does.
import { ApiError, badRequest, missing, notFound } from "./errors.ts";
import type { RequestContext, Router } from "./http.ts";
import { authenticate, paginate } from "./rest-api.ts";
import { type ProjectNamespace, ROOT_NAMESPACE, type Store } from "./store.ts";

export interface Group {
  id: number;
  name: string;
  path: string;
  fullPath: string;
  description: string;
  parentId: number | null;
  visibility: "private" | "internal" | "public";
  createdAt: Date;
}

const API = "/api/v4";
const iso = (d: Date) => d.toISOString();
const PATH = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;

/** A group by id or URL-encoded full path, as `:id` in GitLab's routes takes it. */
export function groupByRef(store: Store, ref: string): Group {
  const decoded = decodeURIComponent(ref);
  const group = /^\d+$/.test(decoded)
    ? store.groups.get(Number(decoded))
    : [...store.groups.values()].find((g) => g.fullPath.toLowerCase() === decoded.toLowerCase());
  if (!group) throw notFound("Group");
  return group;
}

/** The namespace `POST /projects` puts a project in: namespace_id names a group or root's namespace. */
export function projectNamespace(store: Store, namespaceId: unknown): ProjectNamespace {
  if (namespaceId === undefined || namespaceId === null || namespaceId === "") return ROOT_NAMESPACE;
  if (String(namespaceId) === String(ROOT_NAMESPACE.id)) return ROOT_NAMESPACE;
  const group = store.groups.get(Number(namespaceId));
  if (!group) throw notFound("Namespace");
  return { id: group.id, kind: "group", fullPath: group.fullPath };
}

/** The group and each group above it, nearest first. */
export function groupAncestry(store: Store, group: Group): Group[] {
  const chain: Group[] = [];
  for (
    let g: Group | undefined = group;
    g;
    g = g.parentId === null ? undefined : store.groups.get(g.parentId)
  )
    chain.push(g);
  return chain;
}

/** The `namespace` entity of a project (API::Entities::NamespaceBasic). */
export function namespaceJson(store: Store, namespace: ProjectNamespace, baseUrl: string) {
  const group = namespace.kind === "group" ? store.groups.get(namespace.id) : undefined;
  return {
    id: namespace.id,
    name: group?.name ?? "Administrator",
    path: group?.path ?? "root",
    kind: namespace.kind,
    full_path: namespace.fullPath,
    parent_id: group?.parentId ?? null,
    avatar_url: null,
    web_url: group ? `${baseUrl}/groups/${group.fullPath}` : `${baseUrl}/root`,
  };
}

/** "Administrator / project" or "Group / Subgroup / project", as GitLab writes name_with_namespace. */
export function nameWithNamespace(store: Store, namespace: ProjectNamespace, projectName: string): string {
  const group = namespace.kind === "group" ? store.groups.get(namespace.id) : undefined;
  const names = group
    ? groupAncestry(store, group)
        .reverse()
        .map((g) => g.name)
    : ["Administrator"];
  return [...names, projectName].join(" / ");
}

export function groupJson(store: Store, group: Group, baseUrl: string) {
  return {
    id: group.id,
    web_url: `${baseUrl}/groups/${group.fullPath}`,
    name: group.name,
    path: group.path,
    description: group.description,
    visibility: group.visibility,
    share_with_group_lock: false,
    require_two_factor_authentication: false,
    project_creation_level: "developer",
    subgroup_creation_level: "maintainer",
    lfs_enabled: true,
    default_branch: null,
    request_access_enabled: true,
    avatar_url: null,
    full_name: groupAncestry(store, group)
      .reverse()
      .map((g) => g.name)
      .join(" / "),
    full_path: group.fullPath,
    created_at: iso(group.createdAt),
    parent_id: group.parentId,
  };
}

function text(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.input[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw badRequest(`${name} is invalid`);
  return value;
}

export function registerGroupsApi(router: Router, store: Store): void {
  router
    .on("POST", `${API}/groups`, (ctx) => {
      authenticate(store, ctx);
      const name = text(ctx, "name");
      const path = text(ctx, "path");
      if (!name) throw missing("name");
      if (!path) throw missing("path");
      const visibility = text(ctx, "visibility") ?? "private";
      if (!["private", "internal", "public"].includes(visibility))
        throw badRequest("visibility does not have a valid value");
      const parentRef = ctx.input.parent_id;
      const parent =
        parentRef === undefined || parentRef === null || parentRef === ""
          ? undefined
          : store.groups.get(Number(parentRef));
      if (parentRef !== undefined && parentRef !== null && parentRef !== "" && !parent)
        throw notFound("Parent Group");
      const fullPath = parent ? `${parent.fullPath}/${path}` : path;
      const problems: Record<string, string[]> = {};
      if (!PATH.test(path) || path.endsWith(".git") || path.endsWith("."))
        problems.path = [
          "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.'",
        ];
      const taken = [...store.groups.values()].some(
        (g) => g.fullPath.toLowerCase() === fullPath.toLowerCase(),
      );
      // Top-level paths share one space with usernames (root's namespace is "root").
      if (taken || (!parent && [...store.users.values()].some((u) => u.username === path)))
        problems.path = [...(problems.path ?? []), "has already been taken"];
      if (Object.keys(problems).length)
        throw new ApiError(400, {
          message: `Failed to save group {${Object.entries(problems)
            .map(([k, v]) => `:${k}=>${JSON.stringify(v)}`)
            .join(", ")}}`,
        });
      const group: Group = {
        id: store.nextNamespaceId(),
        name,
        path,
        fullPath,
        description: text(ctx, "description") ?? "",
        parentId: parent?.id ?? null,
        visibility: visibility as Group["visibility"],
        createdAt: new Date(),
      };
      store.groups.set(group.id, group);
      return { status: 201, body: groupJson(store, group, ctx.baseUrl) };
    })
    .on("GET", `${API}/groups`, (ctx) => {
      authenticate(store, ctx);
      const search = text(ctx, "search")?.toLowerCase();
      const topLevelOnly = ctx.input.top_level_only === true || ctx.input.top_level_only === "true";
      const groups = [...store.groups.values()]
        .filter(
          (g) => !search || g.name.toLowerCase().includes(search) || g.path.toLowerCase().includes(search),
        )
        .filter((g) => !topLevelOnly || g.parentId === null)
        .sort((a, b) => a.name.localeCompare(b.name));
      return paginate(
        ctx,
        groups.map((g) => groupJson(store, g, ctx.baseUrl)),
      );
    })
    .on("GET", `${API}/groups/:id`, (ctx) => {
      authenticate(store, ctx);
      return { status: 200, body: groupJson(store, groupByRef(store, ctx.params.id!), ctx.baseUrl) };
    });
}
