// kubectl's typed clients (create namespace|configmap|secret|deployment) send and accept protobuf.
import { execFile } from "node:child_process";
import { request } from "node:https";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeObject,
  decodeWatchFrames,
  encodeObject,
  PROTOBUF,
} from "../../src/sim/kubernetes/protobuf.ts";
import { type SimHandle, startSim } from "./sim-fixture.ts";

const run = promisify(execFile);
let h: SimHandle;

beforeAll(async () => {
  h = await startSim({ kubelet: "none" });
});
afterAll(async () => h?.stop());

const kubectl = (...args: string[]) =>
  run("kubectl", args, { env: { ...process.env, KUBECONFIG: h.sim.kubeconfigPath }, timeout: 30_000 });

function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<{ status: number; type: string; body: Buffer }> {
  const url = new URL(path, h.sim.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca: h.sim.caCert, headers: { Authorization: `Bearer ${h.sim.token}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"] ?? "",
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("protobuf bodies with kubectl", () => {
  it("kubectl create namespace, configmap, secret and deployment succeed and read back", {
    timeout: 120_000,
  }, async () => {
    await kubectl("create", "namespace", "demo");
    await kubectl("create", "configmap", "cm", "--from-literal=greeting=hello", "-n", "demo");
    await kubectl("create", "secret", "generic", "s", "--from-literal=password=p4ss", "-n", "demo");
    await kubectl(
      "create",
      "deployment",
      "web",
      "--image=busybox",
      "--replicas=2",
      "-n",
      "demo",
      "--",
      "sleep",
      "3600",
    );
    const cm = JSON.parse((await kubectl("get", "configmap", "cm", "-n", "demo", "-o", "json")).stdout);
    expect(cm.data).toEqual({ greeting: "hello" });
    const secret = JSON.parse((await kubectl("get", "secret", "s", "-n", "demo", "-o", "json")).stdout);
    expect(Buffer.from(secret.data.password, "base64").toString()).toBe("p4ss");
    const deploy = JSON.parse((await kubectl("get", "deployment", "web", "-n", "demo", "-o", "json")).stdout);
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.template.spec.containers[0]).toMatchObject({
      image: "busybox",
      command: ["sleep", "3600"],
    });
    expect(deploy.spec.template.metadata.creationTimestamp).toBeUndefined();
    const ns = JSON.parse((await kubectl("get", "namespace", "demo", "-o", "json")).stdout);
    expect(ns.status.phase).toBe("Active");
  });

  it("answers in protobuf when the client accepts only protobuf, and 406 when it accepts nothing served", async () => {
    const res = await call("GET", "/api/v1/namespaces/default", { Accept: PROTOBUF });
    expect(res.status).toBe(200);
    expect(res.type).toBe(PROTOBUF);
    expect(decodeObject(res.body)).toMatchObject({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "default" },
    });
    const missing = await call("GET", "/api/v1/namespaces/nope", { Accept: PROTOBUF });
    expect(missing.status).toBe(404);
    expect(decodeObject(missing.body)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    const refused = await call("GET", "/api/v1/namespaces/default", { Accept: "text/html" });
    expect(refused.status).toBe(406);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ reason: "NotAcceptable", code: 406 });
  });

  it("answers 415 for a body in an unsupported format and stores nothing", async () => {
    const res = await call(
      "POST",
      "/api/v1/namespaces/default/configmaps",
      { "Content-Type": "text/plain" },
      '{"metadata":{"name":"plain"}}',
    );
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body.toString())).toMatchObject({ reason: "UnsupportedMediaType", code: 415 });
    const read = await call("GET", "/api/v1/namespaces/default/configmaps/plain", {});
    expect(read.status).toBe(404);
  });

  it("accepts a protobuf body and streams a watch in protobuf frames", async () => {
    const body = encodeObject({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "pb" },
      data: { a: "b" },
    });
    const created = await call(
      "POST",
      "/api/v1/namespaces/default/configmaps",
      { "Content-Type": PROTOBUF },
      body,
    );
    expect(created.status).toBe(201);
    const watch = await call(
      "GET",
      "/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dpb&timeoutSeconds=1",
      { Accept: PROTOBUF },
    );
    expect(watch.type).toBe(`${PROTOBUF};stream=watch`);
    const events = decodeWatchFrames(watch.body);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "ADDED",
      object: { metadata: { name: "pb" }, data: { a: "b" } },
    });
  });
});
