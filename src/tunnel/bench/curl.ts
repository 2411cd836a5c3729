import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { open } from "node:fs/promises";
import type { ModeEndpoint } from "./setup.ts";

export const CURL = "/usr/bin/curl";
const MB = 1_000_000;

export function curlAvailable(): boolean {
  return existsSync(CURL);
}

/** A file of `bytes` bytes for curl to upload from (curl streams it; nothing is held in memory). */
export async function writeUploadFile(path: string, bytes: number): Promise<void> {
  const block = Buffer.alloc(1024 * 1024, 0x62);
  const file = await open(path, "w");
  try {
    for (let written = 0; written < bytes; written += block.length)
      await file.write(block, 0, Math.min(block.length, bytes - written));
  } finally {
    await file.close();
  }
}

/** curl's arguments to reach `path` on a mode's endpoint: Host, token and, for HTTPS, the name and CA. */
function target(ep: ModeEndpoint, path: string): string[] {
  // Over HTTPS the host name goes in the URL (for SNI and the certificate check) and so in Host.
  const headers = Object.entries(ep.headers)
    .filter(([name]) => !(ep.secure && name === "host"))
    .flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  if (!ep.secure) return [...headers, `http://127.0.0.1:${ep.port}${path}`];
  const name = ep.servername ?? "localhost";
  return [
    ...headers,
    "--cacert",
    ep.caFile ?? "",
    "--resolve",
    `${name}:${ep.port}:127.0.0.1`,
    `https://${name}:${ep.port}${path}`,
  ];
}

interface CurlOutcome {
  status: number;
  downloaded: number;
  uploaded: number;
  seconds: number;
}

function curl(args: string[]): Promise<CurlOutcome> {
  return new Promise((resolve, reject) => {
    execFile(
      CURL,
      ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{size_upload} %{time_total}", ...args],
      { timeout: 600_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`curl ${args.at(-1)}: ${stderr.trim() || err.message}`));
        const [status, downloaded, uploaded, seconds] = stdout.trim().split(" ").map(Number);
        resolve({ status: status!, downloaded: downloaded!, uploaded: uploaded!, seconds: seconds! });
      },
    );
  });
}

/** One download of `bytes` on a new connection, timed by curl itself (connect to last byte); MB/s. */
export async function curlDownload(ep: ModeEndpoint, bytes: number): Promise<number> {
  const r = await curl(target(ep, `/bytes/${bytes}`));
  if (r.status !== 200 || r.downloaded !== bytes)
    throw new Error(
      `${ep.name}: curl download answered HTTP ${r.status} with ${r.downloaded} of ${bytes} bytes`,
    );
  return bytes / MB / r.seconds;
}

/** One upload of the file at `path` (`bytes` long) on a new connection; MB/s. */
export async function curlUpload(ep: ModeEndpoint, path: string, bytes: number): Promise<number> {
  const r = await curl(["-X", "POST", "-H", "Expect:", "-T", path, ...target(ep, "/sink")]);
  if (r.status !== 200 || r.uploaded !== bytes)
    throw new Error(
      `${ep.name}: curl upload answered HTTP ${r.status} after ${r.uploaded} of ${bytes} bytes`,
    );
  return bytes / MB / r.seconds;
}
