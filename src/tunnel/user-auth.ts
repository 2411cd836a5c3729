import type { IncomingHttpHeaders } from "node:http";
import { sameSecret } from "./agent-registry.ts";
import type { WorkspaceRoute } from "./routes.ts";

/** The cookie a browser carries after it opened a workspace URL with `?wsparity_token=…` once. */
export const TOKEN_COOKIE = "wsparity_token";
export const TOKEN_QUERY = "wsparity_token";

export type CredentialSource = "authorization" | "proxy-authorization" | "cookie" | "query";

export interface Credential {
  token: string;
  source: CredentialSource;
}

function bearer(value: string | undefined): string | undefined {
  const match = value?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match?.[1];
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Finds the user's token, in order: Authorization, Proxy-Authorization, cookie, query parameter. */
export function findCredential(
  headers: IncomingHttpHeaders,
  query: URLSearchParams | undefined,
): Credential | null {
  const fromAuthorization = bearer(headers.authorization);
  if (fromAuthorization) return { token: fromAuthorization, source: "authorization" };
  const fromProxy = bearer(headers["proxy-authorization"]);
  if (fromProxy) return { token: fromProxy, source: "proxy-authorization" };
  const fromCookie = cookieValue(headers.cookie, TOKEN_COOKIE);
  if (fromCookie) return { token: fromCookie, source: "cookie" };
  const fromQuery = query?.get(TOKEN_QUERY);
  if (fromQuery) return { token: fromQuery, source: "query" };
  return null;
}

export function tokenAdmits(route: WorkspaceRoute, token: string): boolean {
  let admitted = false;
  for (const candidate of route.userTokens) if (sameSecret(token, candidate)) admitted = true;
  return admitted;
}

/** Removes the tunnel's own credentials so the workspace never sees them. */
export function stripCredentials(headers: IncomingHttpHeaders, credential: Credential): void {
  if (credential.source === "authorization") delete headers.authorization;
  delete headers["proxy-authorization"];
  if (headers.cookie) {
    const kept = headers.cookie
      .split(";")
      .filter((part) => part.split("=")[0]?.trim() !== TOKEN_COOKIE)
      .join(";")
      .trim();
    if (kept) headers.cookie = kept;
    else delete headers.cookie;
  }
}
