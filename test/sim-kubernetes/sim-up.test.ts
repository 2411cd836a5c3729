// `wsparity sim up` end to end with the real kubectl: apply a workspace, see it Running, exec, logs, reach the editor
// through the workspace proxy URL, delete it, then Ctrl-C leaves no process or folder behind.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { defaultSettings, toYamlStream, workspaceManifest } from "../../src/kubernetes/index.ts";
import { runnerTags } from "../../src/runner/index.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { readTierSettings } from "../../src/tier/settings.ts";
import { container, endpoint, workspace } from "../kubernetes/spec-fixtures.ts";
import { describeUnless } from "../support/skip.ts";

const missing =
  processKubeletUnavailable() ?? (existsSync("/usr/bin/kubectl") ? undefined : "kubectl is not installed");
if (missing && process.env.CI) throw new Error(`CI must run the sim up test: ${missing}`);

const spec = workspace({
  containers: [
    container("tooling-container", { main: true, attributes: { "gl/inject-editor": true } }),
    container("sidecar", {
      command: [
        "sh",
        "-c",
        `echo sidecar up; exec node -e "require('http').createServer((q, r) => r.end('side')).listen(8080)"`,
      ],
      endpoints: [endpoint("side", 8080)],
    }),
    // An image the process kubelet cannot run and whose entrypoint it does not know: a stand-in runs instead.
    container("db", { image: "bitnami/mongodb:7.0", endpoints: [endpoint("mongo", 27017)] }),
  ],
  commands: [
    {
      kind: "exec",
      id: "hello",
      component: "tooling-container",
      commandLine: "echo hello > /projects/hello.txt",
      env: [],
      hotReloadCapable: false,
    },
  ],
  events: { preStart: [], postStart: ["hello"], preStop: [], postStop: [] },
});
const settings = defaultSettings("kubectl-e2e", {
  name: "workspace-kubectl-e2e",
  namespace: "gl-rd-ns-kubectl-e2e",
});
const ns = settings.namespace;
const manifest = toYamlStream(workspaceManifest(spec, settings));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function proxyGet(
  tunnelUrl: string,
  host: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: string }> {
  const { port } = new URL(tunnelUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describeUnless(missing)("wsparity sim up with kubectl", () => {
  let stateDir: string;
  let sim: ChildProcess;
  let output = "";
  let env: Record<string, string>;
  const kubectl = (args: string[], input?: string) =>
    run("kubectl", args, { KUBECONFIG: env.KUBECONFIG! }, input);

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "wsparity-sim-up-"));
    sim = spawn(process.execPath, ["bin/wsparity.js", "sim", "up", "--state-dir", stateDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    sim.stdout!.on("data", (d) => (output += d));
    sim.stderr!.on("data", (d) => (output += d));
    await waitFor("sim up to be ready", () => (output.includes("press Ctrl-C") ? true : undefined), 90_000);
    env = Object.fromEntries(
      readFileSync(join(stateDir, "env"), "utf8")
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  }, 120_000);

  afterAll(() => {
    if (sim && sim.exitCode === null) sim.kill("SIGKILL");
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("writes DIR/env and DIR/kubeconfig", () => {
    expect(Object.keys(env)).toEqual(expect.arrayContaining(["KUBECONFIG", "TUNNEL_URL", "WORKSPACE_TOKEN"]));
    expect(env.KUBECONFIG).toBe(join(stateDir, "kubeconfig"));
    const tier = readTierSettings(join(stateDir, "tier.yaml"));
    expect(tier.gitlab.url).toBe(env.GITLAB_URL);
    expect(tier.kubernetes.agents).toEqual([
      expect.objectContaining({ clusterAgentId: env.GITLAB_AGENT_ID, dnsZone: env.WORKSPACES_DNS_ZONE }),
    ]);
    expect(tier.ci.runners).toContainEqual({
      executor: "shell",
      arch: "amd64",
      tags: runnerTags({ executor: "shell", arch: "amd64" }),
    });
  });

  it("applies a workspace, runs it, execs, logs, serves the editor through the proxy, deletes it", {
    timeout: 180_000,
  }, async () => {
    const applied = await kubectl(["apply", "--server-side", "-f", "-"], manifest);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toContain("deployment.apps/workspace-kubectl-e2e serverside-applied");

    const waited = await kubectl([
      "wait",
      "--for=condition=Available",
      `deployment/${settings.name}`,
      "-n",
      ns,
      "--timeout=90s",
    ]);
    expect(waited.status, waited.stderr).toBe(0);
    const name = (await kubectl(["get", "pods", "-n", ns, "-o", "jsonpath={.items[0].metadata.name}"]))
      .stdout;
    expect((await kubectl(["get", "pods", "-n", ns])).stdout).toMatch(
      new RegExp(`${name}\\s+3/3\\s+Running`),
    );
    const events = await kubectl(["get", "events", "-n", ns, "--field-selector", "reason=ImageNotRun"]);
    expect(events.stdout).toMatch(/db: image bitnami\/mongodb:7\.0 not run and its entrypoint is unknown/);

    const exec = await kubectl([
      "exec",
      "-n",
      ns,
      name,
      "-c",
      "tooling-container",
      "--",
      "sh",
      "-c",
      "id -u; hostname; cat /projects/hello.txt",
    ]);
    expect(exec.stdout.split("\n")).toEqual(["5001", name, "hello", ""]);
    expect(
      (await kubectl(["exec", "-n", ns, name, "-c", "sidecar", "--", "sh", "-c", "exit 3"])).status,
    ).toBe(3);
    const fetchFrom = (c: string, url: string) =>
      kubectl([
        "exec",
        "-n",
        ns,
        name,
        "-c",
        c,
        "--",
        "node",
        "-e",
        `fetch('${url}').then(r=>r.text()).then(console.log)`,
      ]);
    expect(JSON.parse((await fetchFrom("sidecar", "http://127.0.0.1:60001/healthz")).stdout)).toEqual({
      ok: true,
    });
    expect((await fetchFrom("tooling-container", "http://localhost:8080/")).stdout).toBe("side\n");
    expect((await kubectl(["logs", "-n", ns, name, "-c", "sidecar"])).stdout).toBe("sidecar up\n");

    const host = `60001-${settings.name}.${env.TUNNEL_DOMAIN}`;
    const editor = await waitFor("the editor through the proxy", async () => {
      const r = await proxyGet(env.TUNNEL_URL!, host, "/healthz", env.WORKSPACE_TOKEN);
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(editor.body)).toEqual({ ok: true });
    expect((await proxyGet(env.TUNNEL_URL!, host, "/healthz")).status).toBe(401);
    const sidecar = await proxyGet(
      env.TUNNEL_URL!,
      `8080-${settings.name}.${env.TUNNEL_DOMAIN}`,
      "/",
      env.WORKSPACE_TOKEN,
    );
    expect(sidecar.body).toBe("side");

    const deleted = await kubectl(["delete", "-f", "-", "--wait=true"], manifest);
    expect(deleted.status, deleted.stderr).toBe(0);
    await waitFor("the namespace to go", async () =>
      (await kubectl(["get", "ns", ns])).status !== 0 ? true : undefined,
    );
    expect(readdirSync(join(stateDir, "kubernetes", "pods"))).toEqual([]);
  });

  it("stops everything it started on Ctrl-C", { timeout: 60_000 }, async () => {
    await kubectl(["apply", "--server-side", "-f", "-"], manifest);
    await kubectl([
      "wait",
      "--for=condition=Available",
      `deployment/${settings.name}`,
      "-n",
      ns,
      "--timeout=90s",
    ]);
    const exited = new Promise<number | null>((resolve) => sim.once("exit", (code) => resolve(code)));
    sim.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("everything sim up started is gone");
    const leftovers = readdirSync("/proc").filter((pid) => {
      try {
        return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(stateDir);
      } catch {
        return false;
      }
    });
    expect(leftovers).toEqual([]);
    expect(existsSync(join(stateDir, "env"))).toBe(false);
  });
});
