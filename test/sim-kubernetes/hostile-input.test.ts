// Regressions for issue 12 in the Kubernetes simulator: prototype keys in bodies and patches stay
// ordinary fields (never Object.prototype, never an object's prototype), bodies over kube-apiserver's
// 3 MiB limit get 413, and a bad %-escape in the path gets Go's 400.
// biome-ignore-all lint/suspicious/noExplicitAny: Kubernetes objects read back as JSON

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubernetesApiServer, ObjectStore } from "../../src/sim/kubernetes/index.ts";
import { RESOURCE_TYPES } from "../../src/sim/kubernetes/resources.ts";

const TOKEN = "hostile-test-token";
const store = new ObjectStore();
const configMaps = RESOURCE_TYPES.find((rt) => rt.kind === "ConfigMap")!;
let server: KubernetesApiServer;
let url: string;

beforeAll(async () => {
  server = new KubernetesApiServer({ store, token: TOKEN });
  url = await server.listen();
  const res = await call("POST", "/api/v1/namespaces/default/configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm", labels: { app: "x" } },
    data: { a: "1" },
  });
  expect(res.status).toBe(201);
});
afterAll(() => server.close());
afterEach(() => {
  for (const key of ["polluted", "deletionTimestamp"])
    delete (Object.prototype as Record<string, unknown>)[key];
});

function call(method: string, path: string, body?: unknown, type = "application/json") {
  return fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}
const readBack = async () =>
  (await (await call("GET", "/api/v1/namespaces/default/configmaps/cm")).json()) as any;

describe("prototype keys are ordinary fields", () => {
  it("a JSON patch through /__proto__/ or /constructor/prototype/ does not reach Object.prototype", async () => {
    for (const path of [
      "/__proto__/polluted",
      "/metadata/__proto__/polluted",
      "/constructor/prototype/polluted",
    ]) {
      const res = await call(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/cm",
        [{ op: "add", path, value: "yes" }],
        "application/json-patch+json",
      );
      expect(({} as Record<string, unknown>).polluted, path).toBeUndefined();
      expect([200, 422]).toContain(res.status);
    }
  });

  it("a merge patch's __proto__ key does not give the stored metadata a prototype", async () => {
    const patch = '{"metadata":{"__proto__":{"deletionTimestamp":"2020-01-01T00:00:00Z"}}}';
    for (const type of ["application/merge-patch+json", "application/strategic-merge-patch+json"]) {
      const res = await call("PATCH", "/api/v1/namespaces/default/configmaps/cm", patch, type);
      expect(res.status).toBe(200);
      const cm = await readBack();
      // The stored object itself, as the controllers read it.
      const [stored] = store.list(configMaps, "default", undefined, true);
      expect(stored!.metadata.deletionTimestamp).toBeUndefined();
      expect(cm.metadata.deletionTimestamp).toBeUndefined();
      // The API server answers and lists as before: nothing thinks the object is being deleted.
      const list = (await (await call("GET", "/api/v1/namespaces/default/configmaps")).json()) as any;
      expect(list.items.map((i: any) => i.metadata.deletionTimestamp)).toEqual([undefined]);
    }
  });

  it("a ConfigMap key named __proto__ is stored and read back as a key", async () => {
    const res = await call(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/cm",
      '{"data":{"__proto__":"v"}}',
      "application/merge-patch+json",
    );
    expect(res.status).toBe(200);
    const cm = await readBack();
    expect(Object.hasOwn(cm.data, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(cm.data, "__proto__")?.value).toBe("v");
  });
});

describe("kube-apiserver's statuses for oversized and malformed requests", () => {
  it("answers a 4 MiB body with 413 RequestEntityTooLarge, not a reset, and stores nothing", async () => {
    const big = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "big" },
      data: { x: "y".repeat(4 * 1024 * 1024) },
    };
    const res = await call("POST", "/api/v1/namespaces/default/configmaps", big);
    const status = (await res.json()) as any;
    expect([res.status, status.reason, status.message]).toEqual([
      413,
      "RequestEntityTooLarge",
      "Request entity too large: limit is 3145728",
    ]);
    expect((await call("GET", "/api/v1/namespaces/default/configmaps/big")).status).toBe(404);
  });

  it("answers a bad %-escape in the path with Go's 400 Bad Request", async () => {
    const res = await call("GET", "/api/v1/namespaces/default/configmaps/%E0%A4%A");
    expect([res.status, await res.text()]).toEqual([400, "400 Bad Request"]);
  });

  it("answers escapes of invalid UTF-8 with 404: no object can have that name", async () => {
    const res = await call("GET", "/api/v1/namespaces/default/configmaps/%E0%A4");
    expect(res.status).toBe(404);
  });
});
