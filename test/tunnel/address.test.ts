import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRequestTarget, queryOf } from "../../src/tunnel/address.ts";
import {
  formatHost,
  formatPath,
  isWorkspaceName,
  parseConnectAuthority,
  parseHostAddress,
  parsePathAddress,
} from "../../src/tunnel/index.ts";
import { ProtocolError, parseHello } from "../../src/tunnel/protocol.ts";
import { withoutTunnelParameters } from "../../src/tunnel/sign-in.ts";
import { signedInLocation } from "../../src/tunnel/user-listener.ts";

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?$/);
const port = fc.integer({ min: 1, max: 65535 });
const domain = fc
  .array(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("."));
const restOfPath = fc.webPath().map((p) => (p.startsWith("/") ? p : `/${p}`));

describe("Host parsing", () => {
  it("reads back what formatHost wrote, with any case and an optional listener port", () => {
    fc.assert(
      fc.property(
        label,
        port,
        domain,
        fc.option(port),
        fc.boolean(),
        (workspace, p, d, listenerPort, upper) => {
          let host =
            formatHost({ workspace, port: p }, d) + (listenerPort === null ? "" : `:${listenerPort}`);
          if (upper) host = host.toUpperCase();
          expect(parseHostAddress(host, d)).toEqual({ workspace, port: p });
        },
      ),
    );
  });

  it("never throws, and anything it accepts is a valid workspace name and port under the domain", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), domain, (host, d) => {
        const parsed = parseHostAddress(host, d);
        if (parsed) {
          expect(isWorkspaceName(parsed.workspace)).toBe(true);
          expect(parsed.port).toBeGreaterThanOrEqual(1);
          expect(parsed.port).toBeLessThanOrEqual(65535);
          expect(host.toLowerCase().split(":")[0]!.replace(/\.$/, "").endsWith(`.${d}`)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses look-alike domains, extra labels, port 0 and ports above 65535", () => {
    for (const host of [
      "8080-ws.localtest.evil.example",
      "8080-ws.evillocaltest",
      "8080-ws.sub.localtest",
      "0-ws.localtest",
      "65536-ws.localtest",
      "08080-ws.localtest",
      "8080-.localtest",
      "8080-ws-.localtest",
      "ws.localtest",
      "8080-ws.localtest:notaport",
      "",
    ]) {
      expect(parseHostAddress(host, "localtest"), host).toBeNull();
    }
  });
});

describe("path form", () => {
  it("reads back what formatPath wrote and forwards the rest of the path and the query", () => {
    fc.assert(
      fc.property(
        label,
        port,
        restOfPath,
        fc.option(fc.stringMatching(/^[a-z0-9=&]{0,20}$/)),
        (workspace, p, rest, query) => {
          const tail = query === null ? rest : `${rest}?${query}`;
          expect(parsePathAddress(formatPath({ workspace, port: p }, tail))).toEqual({
            workspace,
            port: p,
            forwardPath: tail,
            prefix: `/-/ws/${workspace}/${p}/`,
          });
        },
      ),
    );
  });

  it("treats a bare prefix as the root, and refuses malformed prefixes", () => {
    expect(parsePathAddress("/-/ws/ws1/8080")).toMatchObject({ forwardPath: "/" });
    expect(parsePathAddress("/-/ws/ws1/8080?x=1")).toMatchObject({ forwardPath: "/?x=1" });
    for (const url of [
      "/-/ws/ws1",
      "/-/ws/ws1/",
      "/-/ws/ws1/80x80/",
      "/-/ws/WS1/8080/",
      "/-/ws/../8080/",
      "/ws/ws1/8080/",
    ]) {
      expect(parsePathAddress(url), url).toBeNull();
    }
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const parsed = parsePathAddress(`/-/ws/${s}`);
        if (parsed) expect(parsed.forwardPath.startsWith("/")).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("CONNECT targets", () => {
  it("accepts the host form and <workspace>:<port>", () => {
    fc.assert(
      fc.property(label, port, port, (workspace, p, any) => {
        expect(parseConnectAuthority(`${p}-${workspace}.localtest:${any}`, "localtest")).toEqual({
          workspace,
          port: p,
        });
        expect(parseConnectAuthority(`${workspace}:${p}`, "localtest")).toEqual({ workspace, port: p });
      }),
    );
    expect(parseConnectAuthority("evil.example:443", "localtest")).toBeNull();
  });
});

describe("agent hello", () => {
  it("rejects anything malformed with a ProtocolError and nothing else", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (line) => {
        try {
          parseHello(line);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});

describe("request targets", () => {
  const anyTarget = fc.oneof(
    fc.string(),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    restOfPath.map((p) => `/${p}`),
    fc.string().map((x) => `//${x}?${x}`),
    fc.string().map((x) => `http://${x}/?${x}`),
  );

  it("splits every string into authority and origin-form, or null, and never throws", () => {
    fc.assert(
      fc.property(anyTarget, (url) => {
        const target = parseRequestTarget(url);
        if (target === null) return;
        expect(target.path.startsWith("/")).toBe(true);
        queryOf(target.path);
      }),
    );
    expect(parseRequestTarget("//?x")).toEqual({ authority: undefined, path: "//?x" });
    expect(parseRequestTarget("http://%zz/?x")).toBeNull();
    expect(parseRequestTarget("HTTP://8080-a.localtest:9/p?q")).toEqual({
      authority: "8080-a.localtest:9",
      path: "/p?q",
    });
    expect(parseRequestTarget("*")).toBeNull();
  });

  it("keeps the sign-in redirect on the workspace's origin whatever the path", () => {
    fc.assert(
      fc.property(anyTarget, (url) => {
        const location = signedInLocation(url.startsWith("/") ? url : `/${url}`);
        expect(location).toMatch(/^\/(?![/\\])/);
        expect(new URL(location, "http://8080-a.localtest").host).toBe("8080-a.localtest");
        expect(queryOf(location)?.has("wsparity_code") ?? false).toBe(false);
      }),
    );
    expect(signedInLocation("/.//evil.example/?wsparity_code=T")).toBe("/.//evil.example/");
    expect(signedInLocation("//evil.example/?wsparity_code=T&a=1")).toBe("/evil.example/?a=1");
    expect(signedInLocation("/\\evil.example/?wsparity_code=T")).toBe("/evil.example/");
  });

  it("drops the tunnel's own query parameters and keeps every other one byte for byte", () => {
    const part = fc.stringMatching(/^[^&]*$/);
    const ours = fc.constantFrom(
      "wsparity_code=x",
      "wsparity_token=y",
      "wsparity_%63ode=z",
      "wsparity_session",
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(part, ours)), (parts) => {
        const kept = parts.filter((p) => p !== "" && !/^wsparity_(code|token|%63ode|session)(=|$)/.test(p));
        expect(withoutTunnelParameters(parts.join("&"))).toBe(kept.join("&"));
      }),
    );
  });
});
