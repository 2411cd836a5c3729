import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const SSHD = "/usr/sbin/sshd";

export interface ThrowawaySshd {
  port: number;
  /** The listening sshd; each connection runs in processes below it. */
  pid: number;
  user: string;
  /** Private key accepted by the sshd (and its public half in authorized_keys). */
  keyFile: string;
  /** Options every ssh client call needs for this throwaway server. */
  clientOptions: string[];
  stop(): Promise<void>;
}

export function sshAvailable(): boolean {
  return existsSync(SSHD) && existsSync("/usr/bin/ssh") && existsSync("/usr/bin/ssh-keygen");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  stderr: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${stderr()}`);
}

/**
 * Debian's OpenSSH server bound to 127.0.0.1 on a free port, with a throwaway host key and client key in a
 * temporary directory: the peer `ssh -R` reverse forwarding is measured against, and the SSH endpoint behind
 * an agent in the ProxyCommand test.
 */
export async function startThrowawaySshd(): Promise<ThrowawaySshd> {
  if (!sshAvailable()) {
    throw new Error(
      `${SSHD} or ssh is missing: run scripts/install-test-tools.sh (Debian's openssh-server, openssh-client)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "wsparity-sshd-"));
  const keygen = promisify(execFile);
  await keygen("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await keygen("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  const { readFile } = await import("node:fs/promises");
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")), { mode: 0o600 });
  // Privilege separation needs this directory; Debian creates it only when the ssh service runs.
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755, recursive: true });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "AllowTcpForwarding yes",
    "GatewayPorts no",
    "PrintMotd no",
    "LogLevel ERROR",
    "MaxStartups 200",
    "MaxSessions 200",
  ].join("\n");
  await writeFile(join(dir, "sshd_config"), `${config}\n`);
  let stderr = "";
  const child = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  try {
    await waitForPort(port, child, () => stderr);
  } catch (err) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const keyFile = join(dir, "client_key");
  return {
    port,
    pid: child.pid!,
    user: userInfo().username,
    keyFile,
    clientOptions: [
      "-i",
      keyFile,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "BatchMode=yes",
      "-F",
      "/dev/null",
    ],
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
