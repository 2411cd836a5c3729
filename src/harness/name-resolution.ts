// How the harness reaches names no DNS server knows: a tier's settings may say that every name under a DNS zone
// (<port>-<workspace>.<zone>) is served at one address, as curl's --resolve says it for one name. Clients that
// connect through node:net take `lookup`; fetch takes `dispatcher`.
import {
  lookup as dnsLookup,
  type LookupAddress,
  type LookupAllOptions,
  type LookupOneOptions,
} from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent, type Dispatcher } from "undici";

export interface NameResolution {
  lookup: LookupFunction;
  dispatcher: Dispatcher;
}

/** Names in `zone` (and the zone itself) resolve to `address`; every other name as the system resolves it. */
export function zoneResolution(zone: string, address: string): NameResolution {
  const suffix = `.${zone.toLowerCase()}`;
  const family = address.includes(":") ? 6 : 4;
  const lookup = ((
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    const name = hostname.toLowerCase();
    if (name !== zone.toLowerCase() && !name.endsWith(suffix))
      return dnsLookup(hostname, options as LookupAllOptions, callback as never);
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
  return { lookup, dispatcher: new Agent({ connect: { lookup } }) };
}

/** fetch with the user's headers, through `resolution` when the tier has one. */
export function fetchAsUser(
  authHeaders: () => Record<string, string>,
  resolution: NameResolution | undefined,
): (url: string, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) =>
    fetch(url, {
      ...init,
      headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) },
      ...(resolution ? { dispatcher: resolution.dispatcher } : {}),
    } as RequestInit);
}
