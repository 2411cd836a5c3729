// The sim tier end to end with the real kubectl: apply a workspace, see it Running, exec, logs, editor, delete.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSettings, toYamlStream, workspaceManifest } from "../../src/kubernetes/index.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-kubelet.ts";
import { container, endpoint, workspace } from "../kubernetes/spec-fixtures.ts";
import { type SimHandle, startSim } from "./sim-fixture.ts";

const missing =
  processKubeletUnavailable() ?? (existsSync("/usr/bin/kubectl") ? undefined : "kubectl is not installed");
if (missing && process.env.CI) throw new Error(`CI must run the sim-tier workspace test: ${missing}`);

let h: SimHandle;
/** kubectl, run asynchronously: the simulator answers from this same process. */
function kubectl(
  args: string[],
  input?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("kubectl", args, {
      env: { ...process.env, KUBECONFIG: h.sim.kubeconfigPath },
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

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

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!!missing)("workspace on the sim tier through kubectl", () => {
  beforeAll(async () => {
    h = await startSim();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("applies, runs, execs, logs, serves the editor and deletes cleanly", { timeout: 180_000 }, async () => {
    const applied = await kubectl(
      ["apply", "--server-side", "-f", "-"],
      toYamlStream(workspaceManifest(spec, settings)),
    );
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toContain("deployment.apps/workspace-kubectl-e2e serverside-applied");

    const core = h.kc.makeApiClient(CoreV1Api);
    const pod = await waitFor("the workspace pod to be Ready", async () => {
      const pods = await core.listNamespacedPod({ namespace: ns });
      return pods.items.find((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
    });
    const name = pod.metadata!.name!;
    const get = await kubectl(["get", "pods", "-n", ns]);
    expect(get.stdout).toMatch(new RegExp(`${name}\\s+2/2\\s+Running`));

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
      "id -u; cat /projects/hello.txt; echo $GL_VSCODE_PORT",
    ]);
    expect(exec.status).toBe(0);
    expect(exec.stdout.split("\n")).toEqual(["5001", "hello", "60001", ""]);
    const failing = await kubectl(["exec", "-n", ns, name, "-c", "sidecar", "--", "sh", "-c", "exit 3"]);
    expect(failing.status).toBe(3);

    // The sidecar reaches the editor on the shared pod localhost.
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
    expect((await fetchFrom("sidecar", "http://127.0.0.1:60001/healthz")).stdout).toContain('"status":"ok"');
    expect((await fetchFrom("tooling-container", "http://localhost:8080/")).stdout).toBe("side\n");

    const logs = await kubectl(["logs", "-n", ns, name, "-c", "sidecar"]);
    expect(logs.stdout).toBe("sidecar up\n");

    const socket = await h.sim.connect(ns, name, 60001);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { createConnection: () => socket, path: "/info", headers: { host: "editor" } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(body)).toMatchObject({ editor: "wsparity-sim-editor", uid: 5001 });

    const deleted = await kubectl(
      ["delete", "-f", "-", "--wait=true"],
      toYamlStream(workspaceManifest(spec, settings)),
    );
    expect(deleted.status, deleted.stderr).toBe(0);
    await waitFor("the namespace to go", async () =>
      (await kubectl(["get", "ns", ns])).status !== 0 ? true : undefined,
    );
    expect(readdirSync(join(h.stateDir, "pods"))).toEqual([]);
  });
});
