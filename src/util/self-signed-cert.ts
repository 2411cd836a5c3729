// Self-signed certificates (each its own CA) for the servers wsparity runs, made with Debian's openssl at run time:
// node has no certificate generator. Nothing stays on disk unless the caller writes it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface SelfSignedCert {
  key: string;
  /** Also the CA clients are given, since the certificate signs itself. */
  cert: string;
}

/** OpenSSL's subjectAltName value for host names and IP addresses (IPv6 without brackets; wildcard listens dropped). */
export function subjectAltNames(names: string[]): string {
  const entries = names
    .map((n) => n.replace(/^\[|\]$/g, ""))
    .filter((n) => n && n !== "0.0.0.0" && n !== "::")
    .map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n.toLowerCase()}`));
  return [...new Set(entries)].join(",");
}

/** A P-256 key and a certificate for `names`, valid for `days`; `what` names it in the error. */
export async function selfSignedCert(options: {
  what: string;
  subject: string;
  names: string[];
  days: number;
}): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "wsparity-cert-"));
  try {
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      String(options.days),
      "-subj",
      `/CN=${options.subject}`,
      "-addext",
      `subjectAltName=${subjectAltNames(options.names)}`,
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    const [key, cert] = await Promise.all([
      readFile(join(dir, "key.pem"), "utf8"),
      readFile(join(dir, "cert.pem"), "utf8"),
    ]);
    return { key, cert };
  } catch (err) {
    throw new Error(
      `openssl could not make ${options.what} (is Debian's openssl installed?): ${(err as Error).message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
