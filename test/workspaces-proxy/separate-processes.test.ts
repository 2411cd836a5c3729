// `wsparity sim kubernetes` and `wsparity workspaces-proxy` as processes of their own, as the compose stack's
// `local` profile runs them: kubectl and client-node verify the simulator's certificate by the --server-url host
// name, the proxy reaches a workspace that agentk applied only through the API server's port-forward (HTTP, both
// directions of a 4 MiB body, CONNECT, a WebSocket), and SIGTERM ends both with exit 0 and no pod process left.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { parse, stringify } from "yaml";
import { Agentk } from "../../src/agentk/agentk.ts";
import { zoneResolution } from "../../src/harness/name-resolution.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { selfSignedCert } from "../../src/util/self-signed-cert.ts";
import { portForwardDialer } from "../../src/workspaces-proxy/port-forward-dialer.ts";
import { type PreparedGitLab, prepareGitLab } from "../support/remote-development.ts";
import { describeUnless } from "../support/skip.ts";

const missing =
  processKubeletUnavailable() ?? (existsSync("/usr/bin/kubectl") ? undefined : "kubectl is not installed");
if (missing && process.env.CI) throw new Error(`CI must run the separate-processes test: ${missing}`);

const run = promisify(execFile);
const ZONE = "workspaces.localtest";
const SERVER_NAME = "kubernetes-sim.test";
const DEVFILE = `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes:
      gl/inject-editor: true
    container:
      image: registry.example.test/tooling:1
`;

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** The CLI as its own process, until a line of its output matches `ready`. */
async function startCli(args: string[], ready: RegExp): Promise<Started & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, ["bin/wsparity.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = ready.exec(output);
    if (match) return { child, output: () => output, exited, match };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`wsparity ${args.join(" ")} did not get ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every process below pid, from /proc (a pod's processes run under the simulator's kubelet). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent)
      if (ppid === p && !found.includes(child)) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

/** Whether a process runs (a zombie, already ended, does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describeUnless(missing)("the Kubernetes simulator and the workspaces proxy as separate processes", () => {
  let dir: string;
  let kube: Started;
  let port = 0;
  let kubeconfig: Record<string, unknown>;
  /** The written kubeconfig, pointed at the loopback address with the certificate checked for SERVER_NAME. */
  let loopbackKubeconfig: string;
  let gl: PreparedGitLab;
  let agentk: Agentk | undefined;
  let proxy: Started | undefined;
  let proxyPort = 0;
  let name = "";
  let podProcesses: number[] = [];

  const kubectl = (...args: string[]) =>
    run("kubectl", ["--kubeconfig", join(dir, "kubeconfig"), ...args], { timeout: 20_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const curl = async (...args: string[]) =>
    (
      await run("curl", [
        "-s",
        "-i",
        "--max-time",
        "20",
        "--resolve",
        `60001-${name}.${ZONE}:${proxyPort}:127.0.0.1`,
        ...args,
      ]).catch((e) => e as { stdout: string })
    ).stdout;
  const workspaceUrl = (path: string) => `http://60001-${name}.${ZONE}:${proxyPort}${path}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wsparity-separate-"));
    // 127.0.0.2 is loopback too, and not among the names the certificate always carries.
    const started = await startCli(
      [
        "sim",
        "kubernetes",
        "--listen",
        "127.0.0.2:0",
        "--server-url",
        `https://${SERVER_NAME}`,
        "--state-dir",
        join(dir, "state"),
        "--kubeconfig-out",
        join(dir, "kubeconfig"),
      ],
      /listening on 127\.0\.0\.2:(\d+)/,
    );
    kube = started;
    port = Number(started.match[1]);
    kubeconfig = parse(readFileSync(join(dir, "kubeconfig"), "utf8"));
    const loopback = structuredClone(kubeconfig) as { clusters: { cluster: Record<string, string> }[] };
    loopback.clusters[0]!.cluster.server = `https://127.0.0.2:${port}`;
    loopback.clusters[0]!.cluster["tls-server-name"] = SERVER_NAME;
    loopbackKubeconfig = join(dir, "loopback-kubeconfig");
    writeFileSync(loopbackKubeconfig, stringify(loopback), { mode: 0o600 });
  }, 90_000);

  afterAll(async () => {
    await agentk?.stop();
    for (const p of [proxy, kube]) if (p && p.child.exitCode === null) p.child.kill("SIGKILL");
    for (const pid of podProcesses) if (running(pid)) process.kill(pid, "SIGKILL");
    await gl?.sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a kubeconfig naming --server-url, with a certificate for that host and the listen address", () => {
    expect(statSync(join(dir, "kubeconfig")).mode & 0o777).toBe(0o600);
    const cluster = (kubeconfig.clusters as { cluster: Record<string, string> }[])[0]!.cluster;
    // Without a port, the server URL takes the one listened on.
    expect(cluster.server).toBe(`https://${SERVER_NAME}:${port}`);
    const cert = new X509Certificate(Buffer.from(cluster["certificate-authority-data"]!, "base64"));
    const names = cert.subjectAltName!.split(", ");
    expect(names).toEqual(
      expect.arrayContaining([
        `DNS:${SERVER_NAME}`,
        "IP Address:127.0.0.2",
        "DNS:localhost",
        "IP Address:127.0.0.1",
      ]),
    );
    expect(cert.checkHost(SERVER_NAME)).toBe(SERVER_NAME);
    expect(cert.checkIP("127.0.0.2")).toBe("127.0.0.2");
  });

  it("serves kubectl, which verifies the certificate by the listen address and by the server's host name", async () => {
    const byAddress = await kubectl("--server", `https://127.0.0.2:${port}`, "get", "ns");
    expect(byAddress.stderr).toBe("");
    expect(byAddress.stdout).toMatch(/^default\s+Active/m);
    const byName = await kubectl(
      "--server",
      `https://127.0.0.2:${port}`,
      "--tls-server-name",
      SERVER_NAME,
      "get",
      "ns",
    );
    expect(byName.code, byName.stderr).toBe(0);
    const wrongName = await kubectl(
      "--server",
      `https://127.0.0.2:${port}`,
      "--tls-server-name",
      "elsewhere.test",
      "get",
      "ns",
    );
    expect(wrongName.code).not.toBe(0);
    expect(wrongName.stderr).toMatch(
      /x509: certificate is valid for .*kubernetes-sim\.test, not elsewhere\.test/,
    );
  }, 60_000);

  it("serves client-node, which verifies the server's host name", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(loopbackKubeconfig);
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain("default");
  });

  it("runs the proxy as a process that reaches a workspace only through port-forward", async () => {
    gl = await prepareGitLab(
      { remoteDevelopment: { partialReconciliationIntervalSeconds: 1 } },
      { ".devfile.yaml": DEVFILE },
    );
    proxy = await startCli(
      [
        "workspaces-proxy",
        "--listen",
        "127.0.0.1:0",
        "--dns-zone",
        ZONE,
        "--gitlab-url",
        gl.url,
        "--kubeconfig",
        loopbackKubeconfig,
      ],
      /listening on 127\.0\.0\.1:(\d+)/,
    );
    proxyPort = Number((proxy as Started & { match: RegExpExecArray }).match[1]);
    gl.sim.remoteDevelopment.options.workspacesProxy = { scheme: "http", port: proxyPort };
    const kc = new KubeConfig();
    kc.loadFromFile(loopbackKubeconfig);
    agentk = await new Agentk({ gitlabUrl: gl.url, token: gl.agentToken, kc }).start();
    await gl.graphql(
      `mutation($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) { namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          namespaceId: "gid://gitlab/Namespace/1",
        },
      },
    );
    const created = await gl.graphql(
      `mutation($input: WorkspaceCreateInput!) { workspaceCreate(input: $input) { errors workspace { name url } } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          projectId: `gid://gitlab/Project/${gl.projectId}`,
          desiredState: "Running",
          projectRef: "main",
          devfilePath: ".devfile.yaml",
        },
      },
    );
    name = created.body.data.workspaceCreate.workspace.name;
    expect(created.body.data.workspaceCreate.workspace.url).toMatch(
      new RegExp(`^http://60001-${name}\\.${ZONE}:${proxyPort}/`),
    );
    const deadline = Date.now() + 40_000;
    for (;;) {
      const r = await gl.graphql(`{ currentUser { workspaces { nodes { actualState } } } }`);
      if (r.body.data.currentUser.workspaces.nodes[0].actualState === "Running") break;
      if (Date.now() > deadline) throw new Error("the workspace did not reach Running");
      await new Promise((r) => setTimeout(r, 300));
    }

    expect(await curl(workspaceUrl("/healthz"))).toMatch(/^HTTP\/1\.1 401/);
    const other = gl.sim.store.createUser("someone");
    expect(
      await curl(
        "-H",
        `Authorization: Bearer ${gl.sim.store.createToken(other.id)}`,
        workspaceUrl("/healthz"),
      ),
    ).toMatch(new RegExp(`^HTTP/1\\.1 403[\\s\\S]*workspace ${name} is not one of someone's`));
    expect(await curl("-H", `Authorization: Bearer ${gl.token}`, workspaceUrl("/healthz"))).toMatch(
      /^HTTP\/1\.1 200[\s\S]*"ok":true/,
    );

    // 4 MiB each way: the pod's answer and the user's upload cross port-forward's WebSocket whole.
    const zone = zoneResolution(ZONE, "127.0.0.1");
    const size = 4 * 1024 * 1024;
    const blob = await fetch(workspaceUrl(`/api/blob?bytes=${size}`), {
      headers: { authorization: `Bearer ${gl.token}` },
      dispatcher: zone.dispatcher,
    } as RequestInit);
    expect(blob.status).toBe(200);
    expect((await blob.arrayBuffer()).byteLength).toBe(size);
    const sink = await fetch(workspaceUrl("/api/sink"), {
      method: "POST",
      headers: { authorization: `Bearer ${gl.token}` },
      body: Buffer.alloc(size, 7),
      dispatcher: zone.dispatcher,
    } as RequestInit);
    expect(await sink.json()).toEqual({ received: size });

    // Raw TCP through CONNECT, as an ssh client reaches a workspace's sshd through the proxy.
    const tunnel = connect(proxyPort, "127.0.0.1");
    tunnel.write(
      `CONNECT 60001-${name}.${ZONE}:443 HTTP/1.1\r\nHost: 60001-${name}.${ZONE}:443\r\nProxy-Authorization: Bearer ${gl.token}\r\n\r\n`,
    );
    let seen = "";
    tunnel.on("data", (b: Buffer) => {
      seen += b.toString();
      if (seen === "HTTP/1.1 200 Connection Established\r\n\r\n")
        tunnel.write("GET /healthz HTTP/1.1\r\nHost: workspace\r\nConnection: close\r\n\r\n");
    });
    await new Promise((r) => tunnel.once("close", r));
    expect(seen).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 [\s\S]*"ok":true/);

    const socket = new WebSocket(`ws://60001-${name}.${ZONE}:${proxyPort}/terminal`, {
      headers: { authorization: `Bearer ${gl.token}` },
      lookup: zone.lookup,
      handshakeTimeout: 10_000,
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const reply = await new Promise<string>((resolve) => {
        socket.once("message", (d) => resolve(d.toString()));
        socket.send("echo through-port-forward");
      });
      expect(JSON.parse(reply)).toMatchObject({ exitCode: 0, stdout: "through-port-forward\n" });
    } finally {
      socket.terminate();
    }
  }, 120_000);

  it("serves users over HTTPS with --tls-cert and --tls-key, as GitLab's workspace URLs are https", async () => {
    expect(name, "the proxy test did not create the workspace").not.toBe("");
    const { cert, key } = await selfSignedCert({
      what: "the test's proxy certificate",
      subject: "workspaces proxy",
      names: [ZONE, `*.${ZONE}`],
      days: 1,
    });
    writeFileSync(join(dir, "proxy-cert.pem"), cert);
    writeFileSync(join(dir, "proxy-key.pem"), key, { mode: 0o600 });
    const tlsProxy = await startCli(
      [
        ...["workspaces-proxy", "--listen", "127.0.0.1:0", "--dns-zone", ZONE, "--gitlab-url", gl.url],
        ...["--kubeconfig", loopbackKubeconfig],
        ...["--tls-cert", join(dir, "proxy-cert.pem"), "--tls-key", join(dir, "proxy-key.pem")],
      ],
      /listening on 127\.0\.0\.1:(\d+): https:/,
    );
    try {
      const tlsPort = Number(tlsProxy.match[1]);
      const url = `https://60001-${name}.${ZONE}:${tlsPort}/healthz`;
      const resolve = `60001-${name}.${ZONE}:${tlsPort}:127.0.0.1`;
      const ask = (...args: string[]) =>
        run("curl", ["-s", "-i", "--max-time", "20", "--resolve", resolve, ...args, url]).catch(
          (e) => e as { stdout: string; code: number },
        );
      expect(
        (await ask("--cacert", join(dir, "proxy-cert.pem"), "-H", `Authorization: Bearer ${gl.token}`))
          .stdout,
      ).toMatch(/^HTTP\/1\.1 200[\s\S]*"ok":true/);
      // Without the certificate as a CA, curl refuses it: the proxy is not reachable over plain trust.
      expect(((await ask()) as { code?: number }).code).toBe(60);
    } finally {
      tlsProxy.child.kill("SIGTERM");
      expect(await tlsProxy.exited, tlsProxy.output()).toBe(0);
    }
  }, 60_000);

  it("dials a pod's port through port-forward, and says why when nothing listens there", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(loopbackKubeconfig);
    const pods = await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces();
    const pod = pods.items.find((p) => p.metadata?.name?.startsWith(name))!.metadata!;
    const dial = portForwardDialer(kc);
    const editor = await dial(pod.namespace!, pod.name!, 60001);
    let answer = "";
    editor.on("data", (d: Buffer) => (answer += d));
    editor.end("GET /healthz HTTP/1.1\r\nHost: workspace\r\nConnection: close\r\n\r\n");
    await new Promise((r) => editor.once("close", r));
    expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*"ok":true/);
    // A reader that does not read holds the pod back: little of a 32 MiB answer waits in this process.
    const slow = await dial(pod.namespace!, pod.name!, 60001);
    const size = 32 * 1024 * 1024;
    slow.write(`GET /api/blob?bytes=${size} HTTP/1.1\r\nHost: workspace\r\nConnection: close\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(slow.readableLength).toBeLessThan(4 * 1024 * 1024);
    let received = 0;
    slow.on("data", (d: Buffer) => (received += d.length));
    await new Promise((r) => slow.once("close", r));
    expect(received).toBeGreaterThan(size);
    const nothing = await dial(pod.namespace!, pod.name!, 9);
    const failure = await new Promise<Error>((resolve) => nothing.once("error", resolve));
    expect(failure.message).toMatch(new RegExp(`error forwarding port 9 to pod ${pod.name}`));
  }, 20_000);

  it("stops the proxy on SIGTERM with exit 0", async () => {
    expect(proxy, "the proxy test did not start it").toBeDefined();
    proxy!.child.kill("SIGTERM");
    expect(await proxy!.exited, proxy!.output()).toBe(0);
    expect(proxy!.output()).toContain("Stopped.");
  }, 20_000);

  it("stops every pod on SIGTERM, exits 0 and removes its kubeconfig", async () => {
    await agentk?.stop();
    agentk = undefined;
    podProcesses = descendants(kube.child.pid!);
    // The workspace's pod (its sandbox and the editor) runs under the simulator.
    const commands = podProcesses.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        return "";
      }
    });
    expect(commands.some((c) => c.includes(join(dir, "state", "pods")))).toBe(true);
    kube.child.kill("SIGTERM");
    expect(await kube.exited, kube.output()).toBe(0);
    expect(podProcesses.filter(running)).toEqual([]);
    expect(existsSync(join(dir, "kubeconfig"))).toBe(false);
    expect(readdirSync(join(dir, "state"))).toEqual([]);
  }, 60_000);
});
