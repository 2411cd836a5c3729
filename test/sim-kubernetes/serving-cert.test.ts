// The simulator's --server-url and the names its serving certificate carries: parsers and generator, checked
// with generated host names, IP addresses and ports; one certificate made with openssl and read back.
import { X509Certificate } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseServerUrl } from "../../src/sim/kubernetes/cli.ts";
import { makeServingCert } from "../../src/sim/kubernetes/serving-cert.ts";
import { UsageError } from "../../src/util/errors.ts";
import { subjectAltNames } from "../../src/util/self-signed-cert.ts";

const host = fc.oneof(fc.domain(), fc.ipV4());
const port = fc.integer({ min: 1, max: 65535 });

describe("--server-url", () => {
  it("gives the host, and the port only when the URL writes one (443 included)", () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parseServerUrl(`https://${h}:${p}`)).toEqual({ host: h, port: p });
        expect(parseServerUrl(`https://${h}`)).toEqual({ host: h });
        expect(parseServerUrl(`https://${h}/`)).toEqual({ host: h });
      }),
    );
    expect(parseServerUrl("https://[fd00::1]:6443")).toEqual({ host: "fd00::1", port: 6443 });
  });

  it("refuses what is not https://HOST[:PORT], naming the option", () => {
    fc.assert(
      fc.property(
        host,
        fc.constantFrom("http://H", "https://H/api", "https://H?x=1", "https://u@H", "H:6443", "https://H#f"),
        (h, shape) => {
          expect(() => parseServerUrl(shape.replace("H", h))).toThrow(UsageError);
          expect(() => parseServerUrl(shape.replace("H", h))).toThrow(/^--server-url /);
        },
      ),
    );
    expect(() => parseServerUrl("https://under_score:1")).toThrow(/neither a host name nor an IP address/);
  });
});

describe("the serving certificate's names", () => {
  it("names each host once, IP addresses as IP and the rest as DNS, never an unspecified address", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6(), fc.constantFrom("0.0.0.0", "::"))),
        (names) => {
          const entries = subjectAltNames(names).split(",").filter(Boolean);
          expect(new Set(entries).size).toBe(entries.length);
          for (const name of names) {
            if (name === "0.0.0.0" || name === "::") continue;
            expect(entries).toContain(
              /^[\d.]+$/.test(name) || name.includes(":") ? `IP:${name}` : `DNS:${name}`,
            );
          }
          expect(entries).not.toContain("IP:0.0.0.0");
          expect(entries).not.toContain("IP:::");
        },
      ),
    );
  });

  it("are in the certificate openssl makes", async () => {
    const { cert } = await makeServingCert(["kubernetes-sim", "10.1.2.3", "0.0.0.0"]);
    const x509 = new X509Certificate(cert);
    expect(x509.checkHost("kubernetes-sim")).toBe("kubernetes-sim");
    expect(x509.checkIP("10.1.2.3")).toBe("10.1.2.3");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkHost("elsewhere")).toBeUndefined();
    expect(new Date(x509.validTo).getTime() - Date.now()).toBeGreaterThan(300 * 86_400_000);
  });
});
