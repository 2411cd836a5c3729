// The docker tier's kubelet: the same workspace as on the sim tier, now in real containers that share one
// network namespace per pod, with the user, memory limit and volumes the desired config asks for.
import { spawn } from "node:child_process";
import { request } from "node:http";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dockerEngine, engineAnswers } from "../../src/containers/index.ts";
import { hostArch, resolveImage } from "../../src/images/index.ts";
import { defaultSettings, WorkspaceReconciler } from "../../src/kubernetes/index.ts";
import { container, endpoint, workspace } from "../kubernetes/spec-fixtures.ts";
import { describeUnless } from "../support/skip.ts";
import { type SimHandle, startSim } from "./sim-fixture.ts";

async function dockerTierMissing(): Promise<string | undefined> {
  if (!(await engineAnswers())) return "no Docker engine answers";
  for (const ref of ["debian", "node"]) {
    const image = resolveImage(ref, hostArch()).image;
    const found = await dockerEngine()
      .getImage(image)
      .inspect()
      .catch(() => undefined);
    if (!found) return `image ${image} is not built: run wsparity images build`;
  }
  return undefined;
}

const missing = await dockerTierMissing();
if (missing && process.env.CI) throw new Error(`CI must run the docker-tier kubelet test: ${missing}`);

const spec = workspace({
  containers: [
    container("tooling-container", {
      main: true,
      memoryLimit: "256Mi",
      attributes: { "gl/inject-editor": true },
    }),
    container("sidecar", {
      image: "node:20",
      command: ["node", "-e", "require('http').createServer((q, r) => r.end('side')).listen(8080)"],
      endpoints: [endpoint("side", 8080)],
    }),
  ],
});
const settings = defaultSettings("docker-tier", {
  name: "workspace-docker-tier",
  namespace: "gl-rd-ns-docker-tier",
});

describeUnless(missing)("docker kubelet", () => {
  let h: SimHandle;
  beforeAll(async () => {
    h = await startSim({ kubelet: "docker" });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  const kubectl = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("kubectl", args, { env: { ...process.env, KUBECONFIG: h.sim.kubeconfigPath } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
      child.stdin.end();
    });

  it("runs a workspace in containers: shared localhost, UID 5001, memory limit, editor, clean delete", {
    timeout: 240_000,
  }, async () => {
    const r = new WorkspaceReconciler(h.kc, spec, settings);
    expect(await r.setDesiredState("Running", 180_000)).toBe("Running");
    const pods = await h.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: settings.namespace });
    const name = pods.items[0]!.metadata!.name!;
    const ns = settings.namespace;
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
      "id -u; hostname; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]);
    expect(exec.stdout.split("\n")).toEqual(["5001", name, String(256 * 1024 * 1024), ""]);
    const shared = await kubectl([
      "exec",
      "-n",
      ns,
      name,
      "-c",
      "sidecar",
      "--",
      "node",
      "-e",
      "fetch('http://127.0.0.1:60001/healthz').then(r=>r.text()).then(console.log)",
    ]);
    expect(JSON.parse(shared.stdout)).toEqual({ ok: true });
    const socket = await h.sim.connect(ns, name, 8080);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { createConnection: () => socket as never, path: "/", headers: { host: "x" } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(body).toBe("side");
    expect(
      (await kubectl(["get", "events", "-n", ns, "--field-selector", "reason=ImageNotRun"])).stdout,
    ).toMatch(/tooling-container: image registry\.access\.redhat\.com\/ubi8\/nodejs-18:1-32 runs as /);
    expect(await r.setDesiredState("Terminated")).toBe("Terminated");
    const left = await dockerEngine().listContainers({
      all: true,
      filters: { label: ["io.wsparity.k8s-sim.pod"] },
    });
    expect(left.filter((c) => c.State === "running")).toEqual([]);
  });
});
