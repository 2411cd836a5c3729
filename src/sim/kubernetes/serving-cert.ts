// The API server's serving certificate. It is self-signed (its own CA, which the kubeconfig carries) and names
// every address clients dial: localhost, 127.0.0.1, the listen address and the host of the server URL written into
// the kubeconfig (kubernetes-sim inside compose), so kubectl, client-node and agentk in other containers verify it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface ServingCert {
  key: string;
  cert: string;
}

/** The names the simulator's certificate always carries, whatever else it is given. */
export const ALWAYS_SERVED_NAMES = [
  "localhost",
  "127.0.0.1",
  "wsparity-sim.localtest",
  "*.wsparity-sim.localtest",
];

/** OpenSSL's subjectAltName value for host names and IP addresses (IPv6 without brackets). */
export function subjectAltNames(names: string[]): string {
  const entries = names
    .map((n) => n.replace(/^\[|\]$/g, ""))
    .filter((n) => n && n !== "0.0.0.0" && n !== "::")
    .map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n.toLowerCase()}`));
  return [...new Set(entries)].join(",");
}

/**
 * A P-256 key and certificate made with Debian's openssl (node has no certificate generator). Valid for a year:
 * it is made again at every start, and a simulator in a compose stack may run for weeks. Nothing stays on disk.
 */
export async function makeServingCert(names: string[]): Promise<ServingCert> {
  const dir = await mkdtemp(join(tmpdir(), "wsparity-sim-cert-"));
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
      "365",
      "-subj",
      "/CN=wsparity Kubernetes API simulator",
      "-addext",
      `subjectAltName=${subjectAltNames([...ALWAYS_SERVED_NAMES, ...names])}`,
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
      `openssl could not make the simulator's serving certificate (is Debian's openssl installed?): ${(err as Error).message}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
