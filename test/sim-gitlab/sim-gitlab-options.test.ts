// The options of `wsparity sim gitlab`: --listen and --external-url as parsed, for any input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseExternalUrl, parseListen } from "../../src/sim/gitlab/cli.ts";
import { UsageError } from "../../src/util/errors.ts";

const port = fc.integer({ min: 0, max: 65535 });
const hostname = fc.domain();

describe("sim gitlab's options", () => {
  it("--listen takes host:port, [v6]:port and an IPv4 address, and gives them back", () => {
    fc.assert(
      fc.property(fc.oneof(hostname, fc.ipV4()), port, (host, p) => {
        expect(parseListen(`${host}:${p}`)).toEqual({ host, port: p });
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), port, (host, p) => {
        expect(parseListen(`[${host}]:${p}`)).toEqual({ host, port: p });
      }),
    );
  });

  it("--listen refuses anything else with a UsageError naming the option", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let parsed: { host: string; port: number } | undefined;
        try {
          parsed = parseListen(text);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).toContain("--listen must be host:port");
          return;
        }
        expect(`${parsed.host.includes(":") ? `[${parsed.host}]` : parsed.host}:${parsed.port}`).toBe(text);
      }),
    );
    for (const bad of [
      "8929",
      "host:",
      ":8929",
      "host:65536",
      "host:-1",
      "host:08929",
      "[::1]8929",
      "[host]:1",
    ])
      expect(() => parseListen(bad), bad).toThrow(UsageError);
  });

  it("--external-url takes an http(s) origin, with or without a final slash", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("http", "https"),
        hostname,
        port,
        fc.boolean(),
        (scheme, host, p, slash) => {
          const url = new URL(`${scheme}://${host}:${p}`).origin;
          expect(parseExternalUrl(slash ? `${url}/` : url)).toBe(url);
        },
      ),
    );
    for (const bad of [
      "gitlab-sim:8929",
      "ftp://gitlab",
      "http://gitlab/sub",
      "http://gitlab/?a=1",
      "http://u:p@gitlab",
    ])
      expect(() => parseExternalUrl(bad), bad).toThrow(/--external-url must be/);
  });
});
