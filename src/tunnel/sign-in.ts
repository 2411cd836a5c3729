import { randomBytes } from "node:crypto";
import type { WorkspaceAddress } from "./address.ts";

/** The query parameter of a one-time sign-in link: `https://<port>-<workspace>.<domain>/?wsparity_code=…`. */
export const SIGN_IN_QUERY = "wsparity_code";
/** The host-only cookie a browser gets for a sign-in code. */
export const SESSION_COOKIE = "wsparity_session";
/** Names the tunnel never forwards to a workspace, in a query or a cookie (the second is the pre-code scheme's). */
export const TUNNEL_PARAMETERS = [SIGN_IN_QUERY, SESSION_COOKIE, "wsparity_token"] as const;

export const CODE_TTL_MS = 60_000;
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_CODES = 10_000;
const MAX_SESSIONS = 100_000;

/** What a code or a session stands for: one workspace port, on behalf of the user token that minted it. */
export interface Grant extends WorkspaceAddress {
  token: string;
  expiresAt: number;
}

/**
 * One-time sign-in codes and the browser sessions they open. A code is minted with a user token for one
 * workspace port, lives a minute and is consumed by its first use, right or wrong. A session is a random id in
 * a host-only cookie, valid for the same workspace port only; the caller checks its token against the
 * workspace on every request, so taking a user token away ends its sessions.
 */
export class SignInStore {
  readonly #codes = new Map<string, Grant>();
  readonly #sessions = new Map<string, Grant>();

  constructor(private readonly now: () => number = Date.now) {}

  mint(address: WorkspaceAddress, token: string): { code: string; expiresAt: number } {
    const code = randomBytes(24).toString("base64url");
    const expiresAt = this.now() + CODE_TTL_MS;
    bounded(this.#codes, MAX_CODES, this.now());
    this.#codes.set(code, { workspace: address.workspace, port: address.port, token, expiresAt });
    return { code, expiresAt };
  }

  /** The grant of `code` when it is unused, unexpired and for `address`; the code is gone afterwards either way. */
  redeem(code: string, address: WorkspaceAddress): Grant | undefined {
    const grant = this.#codes.get(code);
    this.#codes.delete(code);
    return grant && this.#fits(grant, address) ? grant : undefined;
  }

  open(grant: Grant): { id: string; maxAgeSeconds: number } {
    const id = randomBytes(24).toString("base64url");
    bounded(this.#sessions, MAX_SESSIONS, this.now());
    this.#sessions.set(id, { ...grant, expiresAt: this.now() + SESSION_TTL_MS });
    return { id, maxAgeSeconds: SESSION_TTL_MS / 1000 };
  }

  session(id: string, address: WorkspaceAddress): Grant | undefined {
    const grant = this.#sessions.get(id);
    if (grant && grant.expiresAt <= this.now()) this.#sessions.delete(id);
    return grant && this.#fits(grant, address) ? grant : undefined;
  }

  get size(): { codes: number; sessions: number } {
    return { codes: this.#codes.size, sessions: this.#sessions.size };
  }

  #fits(grant: Grant, address: WorkspaceAddress): boolean {
    return (
      grant.expiresAt > this.now() && grant.workspace === address.workspace && grant.port === address.port
    );
  }
}

/** Makes room for one more entry: expired ones go first, then the oldest. */
function bounded(map: Map<string, Grant>, max: number, now: number): void {
  if (map.size < max) return;
  for (const [key, grant] of map) if (grant.expiresAt <= now) map.delete(key);
  for (const key of map.keys()) {
    if (map.size < max) break;
    map.delete(key);
  }
}

/**
 * The query of a request target without the tunnel's own parameters; every other parameter is kept byte for
 * byte (re-encoding would change what the workspace's app receives).
 */
export function withoutTunnelParameters(query: string): string {
  return query
    .split("&")
    .filter((part) => {
      const name = part.split("=")[0]!;
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // A name that does not decode is not one of ours.
      }
      return part !== "" && !(TUNNEL_PARAMETERS as readonly string[]).includes(decoded);
    })
    .join("&");
}
