import { selfSignedCert } from "../util/self-signed-cert.ts";

export interface ThrowawayCert {
  key: string;
  cert: string;
  /** The certificate is its own CA: give this to clients as `ca`. */
  ca: string;
}

/** A self-signed certificate for localhost, 127.0.0.1 and *.<domain>, valid for two days. */
export async function makeThrowawayCert(domain = "wsparity.localtest"): Promise<ThrowawayCert> {
  const { key, cert } = await selfSignedCert({
    what: "a throwaway certificate",
    subject: "wsparity throwaway",
    names: ["localhost", domain, `*.${domain}`, "127.0.0.1"],
    days: 2,
  });
  return { key, cert, ca: cert };
}
