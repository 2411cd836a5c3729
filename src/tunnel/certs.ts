import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface ThrowawayCert {
  key: string;
  cert: string;
  /** The certificate is its own CA: give this to clients as `ca`. */
  ca: string;
}

/**
 * A self-signed P-256 certificate for localhost, 127.0.0.1 and *.<domain>, made with Debian's openssl at run
 * time (node has no certificate generator). Nothing is kept on disk.
 */
export async function makeThrowawayCert(domain = "wsparity.localtest"): Promise<ThrowawayCert> {
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
      "2",
      "-subj",
      "/CN=wsparity throwaway",
      "-addext",
      `subjectAltName=DNS:localhost,DNS:${domain},DNS:*.${domain},IP:127.0.0.1`,
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    const [key, cert] = await Promise.all([
      readFile(join(dir, "key.pem"), "utf8"),
      readFile(join(dir, "cert.pem"), "utf8"),
    ]);
    return { key, cert, ca: cert };
  } catch (err) {
    throw new Error(
      `openssl could not make a throwaway certificate (is Debian's openssl installed?): ${(err as Error).message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
