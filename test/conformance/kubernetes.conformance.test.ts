// The Kubernetes simulator against kube-apiserver's behaviour, driven by clients nobody here wrote (kubectl and
// @kubernetes/client-node): a broad set of everyday operations, each passing or failing on its own, counted and
// printed as "passing / tried". Expected codes, reasons and messages come from kube-apiserver's source (paths below
// are in github.com/kubernetes/kubernetes), never from the simulator's own output. Every refused bad input is followed
// by a read showing the object unchanged.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { Attach, CoreV1Api, type KubeConfig, PortForward, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { type KubernetesSim, startKubernetesSim } from "../../src/sim/kubernetes/index.ts";
import { PROTOBUF } from "../../src/sim/kubernetes/protobuf.ts";

const execFileP = promisify(execFile);
const NS = "conf";
let sim: KubernetesSim;
let kc: KubeConfig;
let stateDir: string;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(args: string[], input?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", sim.kubeconfigPath, ...args],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const json = async (args: string[]) => JSON.parse(await ok([...args, "-o", "json"]));

function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, sim.url),
      {
        method,
        ca: sim.caCert,
        headers: {
          Authorization: `Bearer ${sim.token}`,
          ...(body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Refused with kube-apiserver's code and reason, and the object reads back as it was. */
async function refused(
  attempt: () => Promise<{ status: number; text: string }>,
  code: number,
  reason: string | undefined,
  message: RegExp,
  readBack: () => Promise<unknown>,
): Promise<void> {
  const before = await readBack();
  const res = await attempt();
  expect(res.status).toBe(code);
  const status = JSON.parse(res.text);
  expect(status.kind).toBe("Status");
  expect(status.reason).toBe(reason);
  expect(status.message).toMatch(message);
  expect(await readBack()).toEqual(before);
}

const deployment = (name: string, replicas: number, image = "busybox:1.36", labels = { app: name }) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: NS, labels },
  spec: {
    replicas,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: "main", image, command: ["sleep", "3600"] }] },
    },
  },
});
const yaml = (o: unknown) => JSON.stringify(o);
const configMapRaw = async (name: string) => {
  const r = await call("GET", `/api/v1/namespaces/${NS}/configmaps/${name}`);
  return r.status === 200 ? JSON.parse(r.text) : r.status;
};
const deploymentRaw = async (name: string) => {
  const r = await call("GET", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
  return r.status === 200 ? JSON.parse(r.text) : r.status;
};
const post = (path: string, body: unknown, query = "", type = "application/json") =>
  call(
    "POST",
    `${path}${query}`,
    { "Content-Type": type },
    typeof body === "string" ? body : JSON.stringify(body),
  );
const until = async <T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

type Category =
  | "discovery"
  | "get/describe"
  | "create"
  | "workload verbs"
  | "patch/apply"
  | "delete"
  | "watch"
  | "logs/exec/cp/port-forward/attach"
  | "auth"
  | "proxy"
  | "bad input";
const operations: { category: Category; name: string; run: () => Promise<void> }[] = [];
const op = (category: Category, name: string, run: () => Promise<void>) =>
  operations.push({ category, name, run });

// ---- discovery
op("discovery", "kubectl api-resources lists the served kinds", async () => {
  const out = await ok(["api-resources"]);
  for (const kind of [
    "Pod",
    "Deployment",
    "ConfigMap",
    "Service",
    "Namespace",
    "Node",
    "Endpoints",
    "EndpointSlice",
  ]) {
    expect(out).toContain(kind);
  }
});
op("discovery", "kubectl api-versions", async () => {
  const out = await ok(["api-versions"]);
  expect(out).toMatch(/^apps\/v1$/m);
  expect(out).toMatch(/^v1$/m);
});
op("discovery", "kubectl version reports the server", async () => {
  expect(JSON.parse(await ok(["version", "-o", "json"])).serverVersion.major).toBe("1");
});
op("discovery", "kubectl explain deployment.spec.replicas (OpenAPI v3)", async () => {
  expect(await ok(["explain", "deployment.spec.replicas"])).toMatch(/replicas\s+<integer>/);
});
op("discovery", "kubectl explain pod.spec.containers --recursive", async () => {
  expect(await ok(["explain", "pod.spec.containers", "--recursive"])).toMatch(/imagePullPolicy\s+<string>/);
});
op("discovery", "OpenAPI v2 names Kubernetes' schemas", async () => {
  const doc = JSON.parse((await call("GET", "/openapi/v2")).text);
  expect(doc.definitions["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]).toEqual([
    { group: "apps", kind: "Deployment", version: "v1" },
  ]);
});
op("discovery", "client-node reads the core API versions", async () => {
  const res = await call("GET", "/api");
  expect(JSON.parse(res.text).versions).toContain("v1");
});
op("discovery", "nodes are listed (kubectl get nodes)", async () => {
  expect(await ok(["get", "nodes"])).toMatch(/Ready/);
});

// ---- create
op("create", "kubectl create namespace (protobuf body)", async () => {
  await ok(["create", "namespace", "conf-extra"]);
});
op("create", "kubectl create configmap --from-literal", async () => {
  await ok(["create", "configmap", "settings", "-n", NS, "--from-literal=color=blue"]);
  expect((await json(["get", "cm", "settings", "-n", NS])).data).toEqual({ color: "blue" });
});
op("create", "kubectl create secret generic", async () => {
  await ok(["create", "secret", "generic", "creds", "-n", NS, "--from-literal=password=p4ss"]);
  const s = await json(["get", "secret", "creds", "-n", NS]);
  expect(Buffer.from(s.data.password, "base64").toString()).toBe("p4ss");
  expect(s.type).toBe("Opaque");
});
op("create", "kubectl create secret docker-registry", async () => {
  await ok([
    "create",
    "secret",
    "docker-registry",
    "pull",
    "-n",
    NS,
    "--docker-server=registry.example",
    "--docker-username=u",
    "--docker-password=p",
  ]);
  expect((await json(["get", "secret", "pull", "-n", NS])).type).toBe("kubernetes.io/dockerconfigjson");
});
op("create", "kubectl create deployment (defaults filled in)", async () => {
  await ok([
    "create",
    "deployment",
    "web",
    "-n",
    NS,
    "--image=busybox:1.36",
    "--replicas=2",
    "--",
    "sleep",
    "3600",
  ]);
  const d = await json(["get", "deploy", "web", "-n", NS]);
  expect(d.spec.strategy).toEqual({
    type: "RollingUpdate",
    rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
  });
  expect(d.spec.revisionHistoryLimit).toBe(10);
  expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
});
op("create", "kubectl create serviceaccount", async () => {
  await ok(["create", "serviceaccount", "robot", "-n", NS]);
});
op("create", "kubectl create service clusterip gets a ClusterIP", async () => {
  await ok(["create", "service", "clusterip", "web", "-n", NS, "--tcp=80:8080"]);
  const svc = await json(["get", "svc", "web", "-n", NS]);
  expect(svc.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
});
op("create", "kubectl create -f with a multi-document YAML stream", async () => {
  const docs = ["one", "two"].map((name) =>
    stringifyYaml({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NS } }),
  );
  expect(await ok(["create", "-f", "-"], docs.join("\n---\n"))).toMatch(
    /configmap\/one created\s+configmap\/two created/,
  );
});
// kubectl validates a List client-side against /openapi/v2 in gnostic's protobuf, which the simulator does not serve.
op("create", "kubectl create -f with a kind: List", async () => {
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "listed", namespace: NS } }],
  };
  expect(await ok(["create", "-f", "-"], yaml(list))).toMatch(/configmap\/listed created/);
});
// A List is judged by kubectl itself, against /openapi/v2 in gnostic's protobuf (no server-side field validation for
// a kind that is not a resource): its messages are kubectl's own, and nothing is stored.
op("bad input", "kubectl create -f List with an unknown field fails kubectl's validation", async () => {
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "listed-bad", namespace: NS }, bogus: 1 },
    ],
  };
  const r = await kubectl(["create", "-f", "-"], yaml(list));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(
    /ValidationError\(ConfigMap\): unknown field "bogus" in io\.k8s\.api\.core\.v1\.ConfigMap/,
  );
  expect(await configMapRaw("listed-bad")).toBe(404);
});
op("create", "kubectl create --dry-run=server stores nothing", async () => {
  await ok(["create", "configmap", "dry", "-n", NS, "--dry-run=server"]);
  expect(await configMapRaw("dry")).toBe(404);
});
op("create", "client-node createNamespacedConfigMap", async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const cm = await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: "from-node" }, data: { a: "b" } },
  });
  expect(cm.metadata?.uid).toBeTruthy();
});
op("create", "generateName gives a fresh name", async () => {
  const res = await post(`/api/v1/namespaces/${NS}/configmaps`, { metadata: { generateName: "gen-" } });
  expect(res.status).toBe(201);
  expect(JSON.parse(res.text).metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
});

// ---- get/describe
op("get/describe", "kubectl get namespaces", async () => {
  expect(await ok(["get", "ns"])).toMatch(/default\s+Active/);
});
op("get/describe", "kubectl get deployments -o wide (server-side columns)", async () => {
  expect(await ok(["get", "deploy", "-n", NS, "-o", "wide"])).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
});
op("get/describe", "kubectl get pods -A", async () => {
  await until("web's pods", async () => (await ok(["get", "pods", "-A"])).includes("web-"));
});
op("get/describe", "kubectl get -l selector", async () => {
  expect(await ok(["get", "deploy", "-n", NS, "-l", "app=web", "-o", "name"])).toBe("deployment.apps/web\n");
});
op("get/describe", "kubectl get --field-selector", async () => {
  expect(await ok(["get", "cm", "-n", NS, "--field-selector", "metadata.name=settings", "-o", "name"])).toBe(
    "configmap/settings\n",
  );
});
op("get/describe", "kubectl get -o jsonpath", async () => {
  expect(await ok(["get", "cm", "settings", "-n", NS, "-o", "jsonpath={.data.color}"])).toBe("blue");
});
op("get/describe", "kubectl get -o yaml", async () => {
  expect(await ok(["get", "cm", "settings", "-n", NS, "-o", "yaml"])).toMatch(/color: blue/);
});
op("get/describe", "kubectl get --show-labels", async () => {
  expect(await ok(["get", "deploy", "web", "-n", NS, "--show-labels"])).toMatch(/app=web/);
});
op("get/describe", "kubectl get all", async () => {
  const out = await ok(["get", "all", "-n", NS]);
  expect(out).toMatch(/deployment.apps\/web/);
  expect(out).toMatch(/replicaset.apps\/web-/);
});
op("get/describe", "kubectl describe deployment", async () => {
  expect(await ok(["describe", "deploy", "web", "-n", NS])).toMatch(/StrategyType:\s+RollingUpdate/);
});
op("get/describe", "kubectl describe pod", async () => {
  const pod = (await ok(["get", "pods", "-n", NS, "-l", "app=web", "-o", "name"])).split("\n")[0]!;
  expect(await ok(["describe", pod, "-n", NS])).toMatch(/Containers:/);
});
op("get/describe", "kubectl get with chunking (--chunk-size)", async () => {
  expect(await ok(["get", "cm", "-n", NS, "--chunk-size=1", "-o", "name"])).toMatch(/configmap\/settings/);
});
op("get/describe", "kubectl get endpoints for a Service", async () => {
  await ok(["get", "endpoints", "web", "-n", NS]);
});

// ---- workload verbs
op("workload verbs", "kubectl scale", async () => {
  await ok(["scale", "deploy", "web", "-n", NS, "--replicas=3"]);
  await until(
    "3 pods",
    async () => (await json(["get", "deploy", "web", "-n", NS])).status.readyReplicas === 3,
  );
});
op("workload verbs", "kubectl rollout status", async () => {
  expect(await ok(["rollout", "status", "deploy/web", "-n", NS, "--timeout=60s"])).toMatch(
    /successfully rolled out/,
  );
});
op("workload verbs", "kubectl set image makes a new revision", async () => {
  await ok(["set", "image", "deploy/web", "-n", NS, "busybox=busybox:1.37"]);
  await ok(["rollout", "status", "deploy/web", "-n", NS, "--timeout=60s"]);
  const d = await json(["get", "deploy", "web", "-n", NS]);
  expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
});
op("workload verbs", "kubectl rollout history", async () => {
  expect(await ok(["rollout", "history", "deploy/web", "-n", NS])).toMatch(/^1\s/m);
});
op("workload verbs", "kubectl rollout undo reuses the old ReplicaSet", async () => {
  const before = (await json(["get", "rs", "-n", NS, "-l", "app=web"])).items.length;
  await ok(["rollout", "undo", "deploy/web", "-n", NS]);
  await ok(["rollout", "status", "deploy/web", "-n", NS, "--timeout=60s"]);
  expect((await json(["get", "rs", "-n", NS, "-l", "app=web"])).items.length).toBe(before);
});
op("workload verbs", "kubectl rollout restart keeps pods available", async () => {
  await ok(["rollout", "restart", "deploy/web", "-n", NS]);
  await ok(["rollout", "status", "deploy/web", "-n", NS, "--timeout=60s"]);
});
op("workload verbs", "kubectl label", async () => {
  await ok(["label", "cm", "settings", "-n", NS, "tier=front"]);
  expect((await json(["get", "cm", "settings", "-n", NS])).metadata.labels).toEqual({ tier: "front" });
});
op("workload verbs", "kubectl annotate", async () => {
  await ok(["annotate", "cm", "settings", "-n", NS, "note=hello"]);
  expect((await json(["get", "cm", "settings", "-n", NS])).metadata.annotations).toEqual({ note: "hello" });
});
op("workload verbs", "kubectl get events after a rollout", async () => {
  expect(await ok(["get", "events", "-n", NS])).toMatch(/ScalingReplicaSet/);
});

// batch/v1 Jobs (pkg/controller/job): pods until `completions` succeed, `parallelism` at a time, Failed past
// `backoffLimit`; kubectl wait reads the Complete and Failed conditions, kubectl logs job/NAME the pod's log.
const job = (name: string, command: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, namespace: NS },
  spec: {
    ...spec,
    template: {
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", command] }],
      },
    },
  },
});
op("workload verbs", "kubectl create job runs to completion; logs job/NAME", async () => {
  await ok([
    "create",
    "job",
    "hello",
    "-n",
    NS,
    "--image=busybox:1.36",
    "--",
    "sh",
    "-c",
    "echo hi from job",
  ]);
  await ok(["wait", "--for=condition=complete", "job/hello", "-n", NS, "--timeout=60s"]);
  expect(await ok(["logs", "job/hello", "-n", NS])).toBe("hi from job\n");
  expect(await ok(["get", "job", "hello", "-n", NS])).toMatch(/hello\s+Complete\s+1\/1/);
});
op("workload verbs", "a Job with completions 3, parallelism 2 runs 3 pods", async () => {
  await ok(["apply", "-f", "-"], yaml(job("batch3", "sleep 1", { completions: 3, parallelism: 2 })));
  await ok(["wait", "--for=condition=complete", "job/batch3", "-n", NS, "--timeout=60s"]);
  const done = await json(["get", "job", "batch3", "-n", NS]);
  expect(done.status).toMatchObject({ succeeded: 3, ready: 0 });
  expect(done.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"]).toBe(done.metadata.uid);
  expect(
    (await ok(["get", "pods", "-n", NS, "-l", "job-name=batch3", "-o", "name"])).trim().split("\n"),
  ).toHaveLength(3);
});
op("workload verbs", "a failing Job stops at backoffLimit with condition Failed", async () => {
  await ok(["apply", "-f", "-"], yaml(job("flaky", "exit 2", { backoffLimit: 1 })));
  await ok(["wait", "--for=condition=failed", "job/flaky", "-n", NS, "--timeout=60s"]);
  const failed = await json(["get", "job", "flaky", "-n", NS]);
  expect(failed.status.failed).toBe(2);
  expect(failed.status.conditions).toContainEqual(
    expect.objectContaining({ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }),
  );
});
op("workload verbs", "kubectl delete job removes its pods", async () => {
  await ok(["delete", "job", "batch3", "-n", NS]);
  await until(
    "the Job's pods to go",
    async () =>
      (await ok(["get", "pods", "-n", NS, "-l", "job-name=batch3", "-o", "name"])).trim() === "" || undefined,
  );
});
// pkg/apis/batch/validation: a Job's pods restart Never or OnFailure; the template defaults to Always.
op("bad input", "a Job whose pods would restart Always is 422", async () => {
  const bad = job("always", "true");
  (bad.spec.template.spec as { restartPolicy?: string }).restartPolicy = undefined;
  await refused(
    () => post(`/apis/batch/v1/namespaces/${NS}/jobs`, bad),
    422,
    "Invalid",
    /spec\.template\.spec\.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/,
    async () => (await call("GET", `/apis/batch/v1/namespaces/${NS}/jobs/always`)).status,
  );
});

// ---- patch/apply
op("patch/apply", "kubectl apply (client-side) creates then updates", async () => {
  await ok(["apply", "-f", "-"], yaml(deployment("api", 1)));
  await ok(["apply", "-f", "-"], yaml(deployment("api", 2)));
  expect((await json(["get", "deploy", "api", "-n", NS])).spec.replicas).toBe(2);
});
op("patch/apply", "kubectl apply --server-side records managedFields (FieldsV1)", async () => {
  await ok(["apply", "--server-side", "--field-manager=ops", "-f", "-"], yaml(deployment("ssa", 1)));
  const d = await json(["get", "deploy", "ssa", "-n", NS, "--show-managed-fields"]);
  expect(d.metadata.managedFields).toContainEqual(
    expect.objectContaining({ manager: "ops", operation: "Apply", fieldsType: "FieldsV1" }),
  );
});
op("patch/apply", "server-side apply by one manager again never conflicts", async () => {
  await ok(["apply", "--server-side", "--field-manager=ops", "-f", "-"], yaml(deployment("ssa", 1)));
});
// staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go (getConflictMessage)
op("patch/apply", "server-side apply conflict is 409 with Kubernetes' wording", async () => {
  await refused(
    () =>
      call(
        "PATCH",
        `/apis/apps/v1/namespaces/${NS}/deployments/ssa?fieldManager=other`,
        { "Content-Type": "application/apply-patch+yaml" },
        yaml(deployment("ssa", 4)),
      ),
    409,
    "Conflict",
    /^Apply failed with 1 conflict: conflict with "ops": \.spec\.replicas$/,
    () => deploymentRaw("ssa"),
  );
});
op("patch/apply", "--force-conflicts moves ownership", async () => {
  await ok(
    ["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-"],
    yaml(deployment("ssa", 4)),
  );
  const d = await json(["get", "deploy", "ssa", "-n", NS, "--show-managed-fields"]);
  const other = d.metadata.managedFields.find((e: { manager: string }) => e.manager === "other");
  expect(other.fieldsV1["f:spec"]["f:replicas"]).toEqual({});
  const ops = d.metadata.managedFields.find((e: { manager: string }) => e.manager === "ops");
  expect(ops.fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
});
op("patch/apply", "kubectl patch --type merge", async () => {
  await ok(["patch", "cm", "settings", "-n", NS, "--type", "merge", "-p", '{"data":{"size":"L"}}']);
  expect((await json(["get", "cm", "settings", "-n", NS])).data).toEqual({ color: "blue", size: "L" });
});
op("patch/apply", "kubectl patch --type json", async () => {
  await ok([
    "patch",
    "cm",
    "settings",
    "-n",
    NS,
    "--type",
    "json",
    "-p",
    '[{"op":"remove","path":"/data/size"}]',
  ]);
  expect((await json(["get", "cm", "settings", "-n", NS])).data).toEqual({ color: "blue" });
});
op("patch/apply", "kubectl patch (strategic) merges containers by name", async () => {
  await ok([
    "patch",
    "deploy",
    "api",
    "-n",
    NS,
    "-p",
    '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"A","value":"1"}]}]}}}}',
  ]);
  const c = (await json(["get", "deploy", "api", "-n", NS])).spec.template.spec.containers;
  expect(c).toHaveLength(1);
  expect(c[0].env).toEqual([{ name: "A", value: "1" }]);
});
op("patch/apply", "kubectl replace", async () => {
  const cm = await json(["get", "cm", "one", "-n", NS]);
  cm.data = { replaced: "yes" };
  await ok(["replace", "-f", "-"], JSON.stringify(cm));
  expect((await json(["get", "cm", "one", "-n", NS])).data).toEqual({ replaced: "yes" });
});
op("patch/apply", "kubectl diff shows a pending change", async () => {
  const r = await kubectl(["diff", "-f", "-"], yaml(deployment("api", 5)));
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/replicas: 5/);
});

// ---- watch
op("watch", "kubectl get -w --output-watch-events", async () => {
  const child = spawn("kubectl", [
    "--kubeconfig",
    sim.kubeconfigPath,
    "get",
    "cm",
    "-n",
    NS,
    "-w",
    "--output-watch-events",
    "-l",
    "watched=yes",
  ]);
  let out = "";
  child.stdout.on("data", (b) => {
    out += b;
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    await ok(["create", "cm", "w1", "-n", NS]);
    await ok(["label", "cm", "w1", "-n", NS, "watched=yes"]);
    await ok(["label", "cm", "w1", "-n", NS, "watched=no", "--overwrite"]);
    await until(
      "ADDED then DELETED",
      async () => /ADDED\s+w1[\s\S]*DELETED\s+w1/.test(out) || undefined,
      15_000,
    );
  } finally {
    child.kill();
  }
});
op("watch", "client-node Watch sees an object leave and re-enter a label selector", async () => {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: "w2", labels: { w: "in" } } },
  });
  const events: string[] = [];
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${NS}/configmaps`,
    { labelSelector: "w=in" },
    (type) => events.push(type),
    () => {},
  );
  try {
    await until("the initial ADDED", async () => events.length > 0 || undefined);
    const patch = (v: string) =>
      call(
        "PATCH",
        `/api/v1/namespaces/${NS}/configmaps/w2`,
        { "Content-Type": "application/merge-patch+json" },
        JSON.stringify({ metadata: { labels: { w: v } } }),
      );
    await patch("out");
    await patch("in");
    await until(
      "DELETED then ADDED",
      async () => (events.join(",") === "ADDED,DELETED,ADDED" ? true : undefined),
      10_000,
    );
  } finally {
    req.abort();
  }
});
op("watch", "a protobuf watch (client-go's informers) streams frames", async () => {
  const res = await call("GET", `/api/v1/namespaces/${NS}/configmaps?watch=true&timeoutSeconds=1`, {
    Accept: PROTOBUF,
  });
  expect(res.status).toBe(200);
  expect(String(res.headers["content-type"])).toBe(`${PROTOBUF};stream=watch`);
});
op("watch", "a watch from a compacted resourceVersion is 410 Expired", async () => {
  const res = await call("GET", `/api/v1/namespaces/${NS}/configmaps?watch=true&resourceVersion=-5`);
  expect(res.text).toMatch(/"code":410/);
});

// ---- logs/exec/cp/port-forward/attach
const firstPod = async () =>
  (await ok(["get", "pods", "-n", NS, "-l", "app=logger", "-o", "name"])).split("\n")[0]!;
op("logs/exec/cp/port-forward/attach", "kubectl logs", async () => {
  await ok(["apply", "-f", "-"], yaml(loggerDeployment()));
  await ok(["rollout", "status", "deploy/logger", "-n", NS, "--timeout=60s"]);
  await until(
    "a log line",
    async () => (await ok(["logs", await firstPod(), "-n", NS])).includes("tick") || undefined,
  );
});
op("logs/exec/cp/port-forward/attach", "kubectl logs --tail", async () => {
  expect((await ok(["logs", await firstPod(), "-n", NS, "--tail=1"])).trim().split("\n")).toHaveLength(1);
});
op("logs/exec/cp/port-forward/attach", "kubectl logs --timestamps", async () => {
  expect(await ok(["logs", await firstPod(), "-n", NS, "--tail=1", "--timestamps"])).toMatch(
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick/,
  );
});
op("logs/exec/cp/port-forward/attach", "kubectl logs --since keeps only recent lines", async () => {
  const pod = await firstPod();
  await until(
    "a few seconds of log",
    async () => (await ok(["logs", pod, "-n", NS])).split("\n").length > 6 || undefined,
  );
  const all = (await ok(["logs", pod, "-n", NS])).trim().split("\n").length;
  const recent = (await ok(["logs", pod, "-n", NS, "--since=2s"])).trim().split("\n").length;
  expect(recent).toBeLessThan(all);
  expect(recent).toBeLessThanOrEqual(4);
});
op("logs/exec/cp/port-forward/attach", "kubectl logs deploy/NAME", async () => {
  expect(await ok(["logs", "deploy/logger", "-n", NS, "--tail=1"])).toMatch(/tick/);
});
op("logs/exec/cp/port-forward/attach", "kubectl exec", async () => {
  expect(await ok(["exec", await firstPod(), "-n", NS, "--", "echo", "hi"])).toBe("hi\n");
});
op("logs/exec/cp/port-forward/attach", "kubectl exec -i (stdin)", async () => {
  expect(await ok(["exec", "-i", await firstPod(), "-n", NS, "--", "cat"], "piped")).toBe("piped");
});
// kubectl asks for a TTY only when its own stdin is a terminal: script(1) gives it one.
op("logs/exec/cp/port-forward/attach", "kubectl exec -it (TTY) with stderr", async () => {
  const command = `kubectl --kubeconfig ${sim.kubeconfigPath} exec -it ${await firstPod()} -n ${NS} -- sh -c 'echo out; echo err >&2'`;
  const { stdout } = await execFileP("script", ["-qec", command, "/dev/null"], { timeout: 60_000 });
  expect(stdout).not.toMatch(/Unknown stream id/);
  expect(stdout).toMatch(/out\r?\n[\s\S]*err/);
});
// The size kubectl sends on the resize channel (4) is the terminal's the command runs on.
op("logs/exec/cp/port-forward/attach", "kubectl exec -it runs on a terminal of kubectl's size", async () => {
  const command = `stty rows 33 cols 111; kubectl --kubeconfig ${sim.kubeconfigPath} exec -it ${await firstPod()} -n ${NS} -- sh -c 'stty size; test -t 0 && echo on-a-tty'`;
  const { stdout } = await execFileP("script", ["-qec", command, "/dev/null"], { timeout: 60_000 });
  expect(stdout).toMatch(/^33 111\r?$/m);
  expect(stdout).toMatch(/^on-a-tty\r?$/m);
});
op("logs/exec/cp/port-forward/attach", "kubectl exec exit code", async () => {
  const r = await kubectl(["exec", await firstPod(), "-n", NS, "--", "sh", "-c", "exit 3"]);
  expect(r.code).toBe(3);
});
op("logs/exec/cp/port-forward/attach", "kubectl cp to and from a pod", async () => {
  const dir = mkdtempSync(join(tmpdir(), "conf-cp-"));
  try {
    writeFileSync(join(dir, "in.txt"), "copied");
    const pod = (await firstPod()).replace("pod/", "");
    await ok(["cp", join(dir, "in.txt"), `${NS}/${pod}:/tmp/in.txt`]);
    expect(await ok(["exec", pod, "-n", NS, "--", "cat", "/tmp/in.txt"])).toBe("copied");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
// kubectl 1.30+ tunnels SPDY/3.1 (portforward.k8s.io) in a WebSocket; KUBECTL_PORT_FORWARD_WEBSOCKETS=false makes it
// upgrade straight to SPDY/3.1 as before. curl then reaches the pod's port through the local one.
const echoPods = async () => {
  await ok(["apply", "-f", "-"], yaml(echoDeployment()));
  await ok(["rollout", "status", "deploy/echo", "-n", NS, "--timeout=60s"]);
  return (await ok(["get", "pods", "-n", NS, "-l", "app=echo", "-o", "name"])).split("\n")[0]!;
};
async function portForwarded<T>(
  args: string[],
  use: (port: number, stderr: () => string) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const child = spawn("kubectl", ["--kubeconfig", sim.kubeconfigPath, "port-forward", "-n", NS, ...args], {
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b) => {
    out += b;
  });
  child.stderr.on("data", (b) => {
    err += b;
  });
  try {
    const port = await until(
      "kubectl port-forward's Forwarding from line",
      async () => Number(out.match(/Forwarding from 127\.0\.0\.1:(\d+)/)?.[1]) || undefined,
      15_000,
    );
    return await use(port, () => err);
  } finally {
    child.kill();
  }
}
const curl = async (args: string[]) =>
  (await execFileP("curl", ["-sS", "-m", "15", ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl port-forward pod/NAME: curl reaches the pod's port",
  async () => {
    const pod = await echoPods();
    await portForwarded([pod, ":8080"], async (port) => {
      expect(await curl([`http://127.0.0.1:${port}/one`])).toBe("echo GET /one\n");
      expect(await curl([`http://127.0.0.1:${port}/two`])).toBe("echo GET /two\n");
    });
  },
);
op("logs/exec/cp/port-forward/attach", "kubectl port-forward carries 16 MiB each way", async () => {
  const dir = mkdtempSync(join(tmpdir(), "conf-pf-"));
  try {
    const upload = join(dir, "upload.bin");
    writeFileSync(upload, Buffer.alloc(16 * 1024 * 1024, 7));
    await portForwarded([await echoPods(), ":8080"], async (port) => {
      expect((await curl([`http://127.0.0.1:${port}/big`])).length).toBe(16 * 1024 * 1024);
      expect(await curl(["--data-binary", `@${upload}`, `http://127.0.0.1:${port}/up`])).toBe(
        `echo POST /up ${16 * 1024 * 1024}\n`,
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
op("logs/exec/cp/port-forward/attach", "kubectl port-forward svc/NAME maps the Service port", async () => {
  await echoPods();
  await ok(["create", "service", "clusterip", "echo", "-n", NS, "--tcp=80:8080"]);
  await portForwarded(["svc/echo", ":80"], async (port) => {
    expect(await curl([`http://127.0.0.1:${port}/svc`])).toBe("echo GET /svc\n");
  });
});
op("logs/exec/cp/port-forward/attach", "kubectl port-forward over a plain SPDY/3.1 upgrade", async () => {
  await portForwarded(
    [await echoPods(), ":8080"],
    async (port) => {
      expect(await curl([`http://127.0.0.1:${port}/spdy`])).toBe("echo GET /spdy\n");
    },
    { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" },
  );
});
// pkg/kubelet/cri/streaming/portforward/httpstream.go: the kubelet writes "error forwarding port N to pod P, uid U:
// …" on the error stream, and kubectl reports it and exits with "lost connection to pod".
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl port-forward to a closed port reports the kubelet's error",
  async () => {
    await portForwarded([await echoPods(), ":9999"], async (port, stderr) => {
      await expect(curl([`http://127.0.0.1:${port}/`])).rejects.toThrow();
      await until(
        "kubectl's error",
        async () => /error forwarding port 9999 to pod echo-/.test(stderr()) || undefined,
      );
    });
  },
);
op("logs/exec/cp/port-forward/attach", "client-node PortForward reaches the pod's port", async () => {
  const pod = (await echoPods()).replace("pod/", "");
  const forward = new PortForward(kc);
  const server = createServer((socket) => {
    forward.portForward(NS, pod, [8080], socket, null, socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    expect(await curl([`http://127.0.0.1:${port}/node`])).toBe("echo GET /node\n");
  } finally {
    server.close();
  }
});
// Attach joins the container's own process: its output from now on (stdout and stderr apart) and, for a container
// that keeps stdin open, its input; detaching leaves it running, stdinOnce closes its stdin when the client does.
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl attach streams the container's output, stdout and stderr apart",
  async () => {
    await ok(["apply", "-f", "-"], yaml(talkerPod()));
    await ok(["wait", "pod/talker", "-n", NS, "--for=condition=Ready", "--timeout=30s"]);
    const pod = "pod/talker";
    const child = spawn("kubectl", ["--kubeconfig", sim.kubeconfigPath, "attach", pod, "-n", NS]);
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => {
      out += b;
    });
    child.stderr.on("data", (b) => {
      err += b;
    });
    try {
      await until(
        "two lines on stdout",
        async () => (out.match(/^out$/gm)?.length ?? 0) >= 2 || undefined,
        15_000,
      );
      await until("a line on stderr", async () => /^err$/m.test(err) || undefined, 15_000);
      expect(out).not.toMatch(/err/);
      expect(err).not.toMatch(/error/i);
    } finally {
      child.kill();
    }
    expect(await json(["get", pod, "-n", NS])).toMatchObject({ status: { phase: "Running" } });
  },
);
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl attach -i feeds a stdin: true container (stdinOnce)",
  async () => {
    await ok(["apply", "-f", "-"], yaml(readerPod()));
    await ok(["wait", "pod/reader", "-n", NS, "--for=condition=Ready", "--timeout=30s"]);
    expect(await ok(["attach", "-i", "reader", "-n", NS], "hello\nworld\n")).toBe(
      "got hello\ngot world\nbye\n",
    );
    await until(
      "the reader to finish",
      async () => (await json(["get", "pod/reader", "-n", NS])).status.phase === "Succeeded",
    );
  },
);
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl attach -i to a container without stdin is refused",
  async () => {
    const r = await kubectl(["attach", "-i", await firstPod(), "-n", NS], "x\n");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/stdin/);
  },
);
op("logs/exec/cp/port-forward/attach", "client-node Attach receives the container's output", async () => {
  const pod = (await firstPod()).replace("pod/", "");
  const out = new PassThrough();
  let text = "";
  out.on("data", (b) => {
    text += b;
  });
  const ws = await new Attach(kc).attach(NS, pod, "main", out, null, null, false);
  try {
    await until("a tick through client-node", async () => /tick/.test(text) || undefined, 15_000);
  } finally {
    ws.close();
  }
});

// kubectl debug patches pods/NAME/ephemeralcontainers, waits for the container to run and attaches to it; the
// container joins the pod's network. Existing ephemeral containers can be neither removed nor renamed over
// (pkg/apis/core/validation: ValidatePodEphemeralContainersUpdate, validateEphemeralContainers).
op(
  "logs/exec/cp/port-forward/attach",
  "kubectl debug -i runs an ephemeral container in the pod's network",
  async () => {
    const pod = await echoPods();
    const fetchEcho = `fetch("http://127.0.0.1:8080/debug").then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const script = `read line; echo "got $line"; node -e '${fetchEcho}'`;
    const out = await ok(
      ["debug", pod, "-n", NS, "-i", "--image=node:22-alpine", "--container=dbg", "--", "sh", "-c", script],
      "hello\n",
    );
    expect(out).toBe("got hello\necho GET /debug\n");
    const status = (await json(["get", pod, "-n", NS])).status.ephemeralContainerStatuses;
    expect(status).toEqual([
      expect.objectContaining({
        name: "dbg",
        state: { terminated: expect.objectContaining({ exitCode: 0 }) },
      }),
    ]);
  },
);
// kubectl's strategic merge patch merges a taken name into the existing container, which may not change.
op("bad input", "kubectl debug with a taken container name is 422 Forbidden", async () => {
  const pod = await echoPods();
  const r = await kubectl(["debug", pod, "-n", NS, "--image=busybox:1.36", "--container=dbg", "--", "true"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(
    /is invalid: spec\.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed/,
  );
});
op("bad input", "an ephemeral container named like a pod container is 422 Duplicate", async () => {
  const name = (await echoPods()).replace("pod/", "");
  const path = `/api/v1/namespaces/${NS}/pods/${name}`;
  await refused(
    () =>
      call(
        "PATCH",
        `${path}/ephemeralcontainers`,
        { "Content-Type": "application/strategic-merge-patch+json" },
        JSON.stringify({ spec: { ephemeralContainers: [{ name: "main", image: "busybox:1.36" }] } }),
      ),
    422,
    "Invalid",
    /spec\.ephemeralContainers\[1\]\.name: Duplicate value: "main"/,
    async () => JSON.parse((await call("GET", path)).text).spec,
  );
});
op("bad input", "removing an ephemeral container is 422 Forbidden, the pod unchanged", async () => {
  const name = (await echoPods()).replace("pod/", "");
  const path = `/api/v1/namespaces/${NS}/pods/${name}`;
  await refused(
    () =>
      call(
        "PATCH",
        `${path}/ephemeralcontainers`,
        { "Content-Type": "application/merge-patch+json" },
        JSON.stringify({ spec: { ephemeralContainers: [] } }),
      ),
    422,
    "Invalid",
    /spec\.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed/,
    async () => JSON.parse((await call("GET", path)).text).spec,
  );
});

// ---- auth
op("auth", "kubectl auth can-i", async () => {
  expect((await ok(["auth", "can-i", "create", "deployments", "-n", NS])).trim()).toBe("yes");
});
op("auth", "kubectl auth whoami", async () => {
  await ok(["auth", "whoami"]);
});
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go: 401 for a bad token
op("auth", "a bad token is 401 Unauthorized", async () => {
  const res = await call("GET", "/api/v1/namespaces", { Authorization: "Bearer wrong" });
  expect(res.status).toBe(401);
  expect(JSON.parse(res.text).reason).toBe("Unauthorized");
});

// ---- proxy
op("proxy", "kubectl get --raw /api/v1/namespaces/default", async () => {
  expect(JSON.parse(await ok(["get", "--raw", "/api/v1/namespaces/default"])).metadata.name).toBe("default");
});
op("proxy", "kubectl proxy serves the API on localhost", async () => {
  const child = spawn("kubectl", ["--kubeconfig", sim.kubeconfigPath, "proxy", "--port=0"]);
  let out = "";
  child.stdout.on("data", (b) => {
    out += b;
  });
  try {
    const port = await until("Starting to serve", async () => out.match(/127\.0\.0\.1:(\d+)/)?.[1], 15_000);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/${NS}`);
    expect((await res.json()).metadata.name).toBe(NS);
  } finally {
    child.kill();
  }
});

// ---- delete
op("delete", "kubectl delete configmap", async () => {
  await ok(["delete", "cm", "two", "-n", NS]);
  expect(await configMapRaw("two")).toBe(404);
});
op("delete", "kubectl delete -l selector", async () => {
  await ok(["label", "cm", "from-node", "-n", NS, "doomed=yes"]);
  await ok(["delete", "cm", "-n", NS, "-l", "doomed=yes"]);
  expect(await configMapRaw("from-node")).toBe(404);
});
op("delete", "delete a Deployment: ReplicaSets and pods follow (Background)", async () => {
  await ok(["delete", "deploy", "api", "-n", NS, "--wait=true"]);
  await until(
    "api's ReplicaSets to go",
    async () => (await json(["get", "rs", "-n", NS, "-l", "app=api"])).items.length === 0,
  );
});
op("delete", "--cascade=orphan keeps the ReplicaSets", async () => {
  await ok(["apply", "-f", "-"], yaml(deployment("orphans", 1)));
  await until(
    "its ReplicaSet",
    async () => (await json(["get", "rs", "-n", NS, "-l", "app=orphans"])).items.length === 1,
  );
  await ok(["delete", "deploy", "orphans", "-n", NS, "--cascade=orphan"]);
  await new Promise((r) => setTimeout(r, 1500));
  const rs = (await json(["get", "rs", "-n", NS, "-l", "app=orphans"])).items;
  expect(rs).toHaveLength(1);
  expect(rs[0].metadata.ownerReferences ?? []).toEqual([]);
});
op("delete", "--cascade=foreground goes through foregroundDeletion", async () => {
  await ok(["apply", "-f", "-"], yaml(deployment("fg", 1)));
  await until(
    "its ReplicaSet",
    async () => (await json(["get", "rs", "-n", NS, "-l", "app=fg"])).items.length === 1,
  );
  const res = await call(
    "DELETE",
    `/apis/apps/v1/namespaces/${NS}/deployments/fg`,
    { "Content-Type": "application/json" },
    JSON.stringify({ propagationPolicy: "Foreground" }),
  );
  expect(res.status, res.text).toBe(200);
  expect(JSON.parse(res.text).metadata.finalizers).toContain("foregroundDeletion");
  await until("fg to go", async () => (await deploymentRaw("fg")) === 404 || undefined);
});
op("delete", "kubectl delete namespace", async () => {
  await ok(["delete", "namespace", "conf-extra", "--wait=true", "--timeout=30s"]);
});

// ---- bad input (codes and reasons from kube-apiserver; the object reads back unchanged)
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go (transformDecodeError)
op("bad input", "a wrong type is 400 BadRequest (Go's unmarshal error)", async () => {
  await refused(
    () =>
      call(
        "PUT",
        `/apis/apps/v1/namespaces/${NS}/deployments/ssa`,
        { "Content-Type": "application/json" },
        JSON.stringify({
          ...deployment("ssa", 1),
          spec: { ...deployment("ssa", 1).spec, replicas: "three" },
        }),
      ),
    400,
    "BadRequest",
    /^Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec\.spec\.replicas of type int32$/,
    () => deploymentRaw("ssa"),
  );
});
// staging/src/k8s.io/apimachinery/pkg/runtime/serializer/json/json.go (strict decoding errors)
op("bad input", "an unknown field with fieldValidation=Strict is 400", async () => {
  await refused(
    () =>
      post(
        `/api/v1/namespaces/${NS}/configmaps`,
        { metadata: { name: "strict" }, bogus: 1 },
        "?fieldValidation=Strict",
      ),
    400,
    "BadRequest",
    /^strict decoding error: unknown field "bogus"$/,
    () => configMapRaw("strict"),
  );
});
op("bad input", "an unknown field by default is dropped with a warning", async () => {
  const res = await post(`/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: "warned" }, bogus: 1 });
  expect(res.status).toBe(201);
  expect(String(res.headers.warning)).toMatch(/unknown field \\"bogus\\"/);
  expect((await configMapRaw("warned")).bogus).toBeUndefined();
});
// pkg/apis/apps/validation/validation.go (ValidateDeploymentSpec → ValidateNonnegativeField)
op("bad input", "replicas -1 is 422 Invalid with a cause", async () => {
  await refused(
    () => post(`/apis/apps/v1/namespaces/${NS}/deployments`, { ...deployment("neg", -1) }),
    422,
    "Invalid",
    /^Deployment\.apps "neg" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0$/,
    () => deploymentRaw("neg"),
  );
});
// staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go (ValidateObjectMeta, NameIsDNSSubdomain)
op("bad input", "an invalid name is 422", async () => {
  await refused(
    () => post(`/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: "Bad_Name" } }),
    422,
    "Invalid",
    /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    () => configMapRaw("Bad_Name"),
  );
});
// pkg/apis/core/validation/validation.go (ValidatePodSpec: containers[*].image Required)
op("bad input", "a container without an image is 422", async () => {
  const d = deployment("noimage", 1);
  d.spec.template.spec.containers[0]!.image = "";
  await refused(
    () => post(`/apis/apps/v1/namespaces/${NS}/deployments`, d),
    422,
    "Invalid",
    /spec\.template\.spec\.containers\[0\]\.image: Required value/,
    () => deploymentRaw("noimage"),
  );
});
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go (limitedReadBody: NewRequestEntityTooLargeError)
op("bad input", "a 4 MiB body is 413", async () => {
  await refused(
    () =>
      post(`/api/v1/namespaces/${NS}/configmaps`, {
        metadata: { name: "huge" },
        data: { x: "a".repeat(4 * 1024 * 1024) },
      }),
    413,
    "RequestEntityTooLarge",
    /^Request entity too large: limit is 3145728$/,
    () => configMapRaw("huge"),
  );
});
// pkg/apis/core/validation/validation.go (ValidateConfigMap: core.MaxSecretSize)
op("bad input", "a 1.5 MiB ConfigMap is 422 Too long", async () => {
  await refused(
    () =>
      post(`/api/v1/namespaces/${NS}/configmaps`, {
        metadata: { name: "big" },
        data: { x: "a".repeat(1.5 * 1024 * 1024) },
      }),
    422,
    "Invalid",
    /^ConfigMap "big" is invalid: \[\]: Too long: must have at most 1048576 bytes$/,
    () => configMapRaw("big"),
  );
});
op("bad input", "deeply nested JSON is 400, not 500", async () => {
  const res = await post(
    `/api/v1/namespaces/${NS}/configmaps`,
    `{"metadata":{"name":"deep"},"data":${"[".repeat(20000)}${"]".repeat(20000)}}`,
  );
  expect(res.status).toBe(400);
  expect(await configMapRaw("deep")).toBe(404);
});
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go (NewUnsupportedMediaTypeError)
op("bad input", "an unsupported Content-Type is 415", async () => {
  await refused(
    () => post(`/api/v1/namespaces/${NS}/configmaps`, '{"metadata":{"name":"txt"}}', "", "text/plain"),
    415,
    "UnsupportedMediaType",
    /^the body of the request was in an unknown format - accepted media types include: /,
    () => configMapRaw("txt"),
  );
});
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go (NewNotAcceptableError)
op("bad input", "an Accept nothing is served in is 406", async () => {
  const res = await call("GET", `/api/v1/namespaces/${NS}/configmaps/settings`, { Accept: "text/html" });
  expect(res.status).toBe(406);
  expect(JSON.parse(res.text).reason).toBe("NotAcceptable");
});
// staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewAlreadyExists)
op("bad input", "creating an existing object is 409 AlreadyExists", async () => {
  await refused(
    () =>
      post(`/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: "settings" }, data: { color: "red" } }),
    409,
    "AlreadyExists",
    /^configmaps "settings" already exists$/,
    () => configMapRaw("settings"),
  );
});
// staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (OptimisticLockErrorMsg)
op("bad input", "a stale resourceVersion is 409 Conflict", async () => {
  const live = await configMapRaw("settings");
  await refused(
    () =>
      call(
        "PUT",
        `/api/v1/namespaces/${NS}/configmaps/settings`,
        { "Content-Type": "application/json" },
        JSON.stringify({
          ...live,
          metadata: { ...live.metadata, resourceVersion: "1" },
          data: { color: "red" },
        }),
      ),
    409,
    "Conflict",
    /^Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again$/,
    () => configMapRaw("settings"),
  );
});
// staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound)
op("bad input", "a missing object is 404 NotFound with details", async () => {
  const res = await call("GET", `/api/v1/namespaces/${NS}/configmaps/nope`);
  expect(res.status).toBe(404);
  expect(JSON.parse(res.text)).toMatchObject({
    reason: "NotFound",
    message: 'configmaps "nope" not found',
    details: { name: "nope", kind: "configmaps" },
  });
});
// kubernetes/kubernetes#122480: server-side apply of an undeclared field is a bare 500 today
op("bad input", "server-side apply of an unknown field is refused", async () => {
  const d = deployment("ssa", 4) as Record<string, unknown>;
  await refused(
    () =>
      call(
        "PATCH",
        `/apis/apps/v1/namespaces/${NS}/deployments/ssa?fieldManager=other`,
        { "Content-Type": "application/apply-patch+yaml" },
        yaml({ ...d, spec: { ...(d.spec as object), bogus: true } }),
      ),
    500,
    undefined,
    /failed to create typed patch object \(conf\/ssa; apps\/v1, Kind=Deployment\): \.spec\.bogus: field not declared in schema/,
    () => deploymentRaw("ssa"),
  );
});
op("bad input", "kubectl create -f with a wrong type fails and stores nothing", async () => {
  const d = deployment("typo", 1) as { spec: Record<string, unknown> };
  d.spec.replicas = "two";
  const r = await kubectl(["create", "-f", "-"], JSON.stringify(d));
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/Error from server \(BadRequest\)/);
  expect(await deploymentRaw("typo")).toBe(404);
});

/** An HTTP server on the pod's 8080: "echo METHOD PATH [bytes received]", and 16 MiB at /big. */
function echoDeployment() {
  const d = deployment("echo", 1, "node:22-alpine");
  const server = `require("http").createServer((q, s) => {
    if (q.url === "/big") return s.end(Buffer.alloc(16 * 1024 * 1024, 1));
    let n = 0;
    q.on("data", (c) => (n += c.length));
    q.on("end", () => s.end("echo " + q.method + " " + q.url + (n ? " " + n : "") + "\\n"));
  }).listen(8080, "127.0.0.1");`;
  d.spec.template.spec.containers[0]!.command = ["node", "-e", server];
  return d;
}

function loggerDeployment() {
  const d = deployment("logger", 1, "busybox:1.36");
  d.spec.template.spec.containers[0]!.command = ["sh", "-c", "while true; do echo tick; sleep 1; done"];
  return d;
}

/** A pod writing "out" on stdout and "err" on stderr every second. */
const talkerPod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "talker", namespace: NS },
  spec: {
    containers: [
      {
        name: "main",
        image: "busybox:1.36",
        command: ["sh", "-c", "while true; do echo out; echo err >&2; sleep 1; done"],
      },
    ],
  },
});

/** Echoes each line of its stdin until the first attached client closes it. */
const readerPod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "reader", namespace: NS },
  spec: {
    restartPolicy: "Never",
    containers: [
      {
        name: "main",
        image: "busybox:1.36",
        stdin: true,
        stdinOnce: true,
        command: ["sh", "-c", "while read line; do echo got $line; done; echo bye"],
      },
    ],
  },
});

describe("the Kubernetes simulator against kube-apiserver (kubectl and client-node)", () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "wsparity-k8s-conformance-"));
    sim = await startKubernetesSim({ stateDir });
    kc = sim.kubeConfig();
    await execFileP("kubectl", ["--kubeconfig", sim.kubeconfigPath, "create", "namespace", NS]);
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("passes at least 95% of a broad set of everyday operations", async () => {
    const failures: string[] = [];
    const byCategory = new Map<string, { passed: number; tried: number }>();
    for (const o of operations) {
      const tally = byCategory.get(o.category) ?? { passed: 0, tried: 0 };
      tally.tried++;
      try {
        await o.run();
        tally.passed++;
      } catch (err) {
        failures.push(
          `  ✗ [${o.category}] ${o.name}: ${String((err as Error).message ?? err).split("\n")[0]}`,
        );
      }
      byCategory.set(o.category, tally);
    }
    const passed = operations.length - failures.length;
    const lines = [
      `kube-apiserver conformance: ${passed}/${operations.length} operations pass (${((100 * passed) / operations.length).toFixed(1)}%)`,
      ...[...byCategory].map(([c, t]) => `  ${c}: ${t.passed}/${t.tried}`),
      ...failures,
    ];
    console.log(lines.join("\n"));
    expect(passed / operations.length, lines.join("\n")).toBeGreaterThanOrEqual(0.95);
  }, 900_000);
});
