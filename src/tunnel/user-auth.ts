import type { IncomingHttpHeaders } from "node:http";
import { sameSecret } from "./agent-registry.ts";
import type { WorkspaceRoute } from "./routes.ts";
import { TUNNEL_PARAMETERS } from "./sign-in.ts";

export type CredentialSource = "authorization" | "proxy-authorization" | "session";

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

/** A bearer token from Authorization, else from Proxy-Authorization. */
export function bearerCredential(headers: IncomingHttpHeaders): Credential | null {
  const fromAuthorization = bearer(headers.authorization);
  if (fromAuthorization) return { token: fromAuthorization, source: "authorization" };
  const fromProxy = bearer(headers["proxy-authorization"]);
  if (fromProxy) return { token: fromProxy, source: "proxy-authorization" };
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
      .filter((part) => !(TUNNEL_PARAMETERS as readonly string[]).includes(part.split("=")[0]!.trim()))
      .join(";")
      .trim();
    if (kept) headers.cookie = kept;
    else delete headers.cookie;
  }
}
