/**
 * Where a user request goes: `<port>-<workspace>.<domain>` in the Host header, `/-/ws/<workspace>/<port>/…`
 * in the path (for plain localhost use), or `<port>-<workspace>.<domain>:<n>` / `<workspace>:<port>` as the
 * target of an HTTP CONNECT. Every function here is total: bad input gives null, never an exception.
 */
export interface WorkspaceAddress {
  workspace: string;
  port: number;
}

export interface PathAddress extends WorkspaceAddress {
  /** The request target to forward: the path after the prefix (at least "/") plus the query. */
  forwardPath: string;
  /** The prefix a cookie for this workspace is scoped to. */
  prefix: string;
}

export const PATH_PREFIX = "/-/ws/";
const WORKSPACE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;

export function isWorkspaceName(name: string): boolean {
  return WORKSPACE.test(name);
}

function parsePort(text: string): number | null {
  if (!PORT.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/** Strips an optional `:port` suffix from a Host header value and lower-cases it. */
function hostName(host: string): string | null {
  const colon = host.lastIndexOf(":");
  let name = host;
  if (colon !== -1) {
    if (parsePort(host.slice(colon + 1)) === null) return null;
    name = host.slice(0, colon);
  }
  name = name.toLowerCase();
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name;
}

/** `<port>-<workspace>.<domain>[:<listener port>]` → address; anything else → null. */
export function parseHostAddress(host: string | undefined, domain: string): WorkspaceAddress | null {
  if (!host || host.length > 255) return null;
  const name = hostName(host);
  if (name === null) return null;
  const suffix = `.${domain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return null;
  return parseLabel(name.slice(0, -suffix.length));
}

function parseLabel(label: string): WorkspaceAddress | null {
  const dash = label.indexOf("-");
  if (dash === -1) return null;
  const port = parsePort(label.slice(0, dash));
  const workspace = label.slice(dash + 1);
  if (port === null || !WORKSPACE.test(workspace)) return null;
  return { workspace, port };
}

/** `/-/ws/<workspace>/<port>[/rest][?query]` → address and the path to forward; anything else → null. */
export function parsePathAddress(url: string | undefined): PathAddress | null {
  if (!url?.startsWith(PATH_PREFIX)) return null;
  const afterPrefix = url.slice(PATH_PREFIX.length);
  const slash = afterPrefix.indexOf("/");
  if (slash === -1) return null;
  const workspace = afterPrefix.slice(0, slash);
  if (!WORKSPACE.test(workspace)) return null;
  const rest = afterPrefix.slice(slash + 1);
  const end = rest.search(/[/?]/);
  const port = parsePort(end === -1 ? rest : rest.slice(0, end));
  if (port === null) return null;
  let forwardPath = end === -1 ? "/" : rest.slice(end);
  if (forwardPath.startsWith("?")) forwardPath = `/${forwardPath}`;
  return { workspace, port, forwardPath, prefix: `${PATH_PREFIX}${workspace}/${port}/` };
}

/** The target of `CONNECT`: `<port>-<workspace>.<domain>:<n>` or `<workspace>:<port>`. */
export function parseConnectAuthority(
  authority: string | undefined,
  domain: string,
): WorkspaceAddress | null {
  if (!authority || authority.length > 255) return null;
  const byHost = parseHostAddress(authority, domain);
  if (byHost) return byHost;
  const colon = authority.lastIndexOf(":");
  if (colon === -1) return null;
  const workspace = authority.slice(0, colon).toLowerCase();
  const port = parsePort(authority.slice(colon + 1));
  if (port === null || !WORKSPACE.test(workspace)) return null;
  return { workspace, port };
}

export function formatHost(address: WorkspaceAddress, domain: string): string {
  return `${address.port}-${address.workspace}.${domain}`;
}

export function formatPath(address: WorkspaceAddress, rest = "/"): string {
  return `${PATH_PREFIX}${address.workspace}/${address.port}${rest.startsWith("/") ? rest : `/${rest}`}`;
}

/** A request target split into the authority it names (absolute-form only) and the origin-form to forward. */
export interface RequestTarget {
  authority: string | undefined;
  /** Starts with "/": the path and query. */
  path: string;
}

/**
 * `/path?query` (origin-form) or `http(s)://authority/path?query` (absolute-form, RFC 9112 §3.2.2, where the
 * authority replaces the Host header) → its parts; any other form → null.
 */
export function parseRequestTarget(url: string | undefined): RequestTarget | null {
  if (!url) return null;
  if (url.startsWith("/")) return { authority: undefined, path: url };
  const absolute = url.match(/^https?:\/\/([^/?#]*)([^#]*)$/i);
  if (!absolute) return null;
  const authority = absolute[1]!;
  const rest = absolute[2]!;
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(authority)) return null;
  return { authority, path: rest.startsWith("/") ? rest : `/${rest}` };
}

/** The query of a request target as parameters; never throws, whatever the bytes. */
export function queryOf(path: string): URLSearchParams | undefined {
  const mark = path.indexOf("?");
  return mark === -1 ? undefined : new URLSearchParams(path.slice(mark + 1));
}
