// The simulator's API server driven by the real @kubernetes/client-node.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimHandle, startSim } from "./sim-fixture.ts";

let h: SimHandle;
let core: CoreV1Api;
let apps: AppsV1Api;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  h = await startSim({ kubelet: "none" });
  core = h.kc.makeApiClient(CoreV1Api);
  apps = h.kc.makeApiClient(AppsV1Api);
  objects = KubernetesObjectApi.makeApiClient(h.kc);
  await core.createNamespace({ body: { metadata: { name: "t" } } });
});
afterAll(() => h.stop());

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<string>;
    return { code: e.code, body: JSON.parse(e.body) };
  }
  throw new Error("expected the request to fail");
}

const deployment = (name: string, env: { name: string; value: string }[] = []) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "t", labels: { app: name } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "main", image: "busybox", env }] },
    },
  },
});

describe("Kubernetes API simulator with @kubernetes/client-node", () => {
  it("creates, reads, lists by label and field, and deletes", async () => {
    await core.createNamespacedConfigMap({
      namespace: "t",
      body: { metadata: { name: "a", labels: { tier: "x" } }, data: { k: "v" } },
    });
    await core.createNamespacedConfigMap({
      namespace: "t",
      body: { metadata: { name: "b", labels: { tier: "y" } } },
    });
    expect((await core.readNamespacedConfigMap({ namespace: "t", name: "a" })).data).toEqual({ k: "v" });
    const byLabel = await core.listNamespacedConfigMap({ namespace: "t", labelSelector: "tier in (x,z)" });
    expect(byLabel.items.map((i) => i.metadata?.name)).toEqual(["a"]);
    const byField = await core.listNamespacedConfigMap({ namespace: "t", fieldSelector: "metadata.name!=a" });
    expect(byField.items.map((i) => i.metadata?.name)).toEqual(["b"]);
    await core.deleteNamespacedConfigMap({ namespace: "t", name: "b" });
    expect((await apiError(core.readNamespacedConfigMap({ namespace: "t", name: "b" }))).code).toBe(404);
  });

  it("answers errors as Status objects with the right codes", async () => {
    const missing = await apiError(core.readNamespacedSecret({ namespace: "t", name: "nope" }));
    expect(missing).toMatchObject({ code: 404, body: { kind: "Status", reason: "NotFound", code: 404 } });
    await core.createNamespacedSecret({ namespace: "t", body: { metadata: { name: "s" } } });
    const dup = await apiError(
      core.createNamespacedSecret({ namespace: "t", body: { metadata: { name: "s" } } }),
    );
    expect(dup).toMatchObject({ code: 409, body: { reason: "AlreadyExists" } });
    const bad = await apiError(
      core.createNamespacedSecret({ namespace: "t", body: { metadata: { name: "Not_Valid" } } }),
    );
    expect(bad).toMatchObject({ code: 422, body: { reason: "Invalid" } });
    const stale = await core.readNamespacedSecret({ namespace: "t", name: "s" });
    await core.replaceNamespacedSecret({
      namespace: "t",
      name: "s",
      body: { ...stale, stringData: undefined, data: { a: "YQ==" } },
    });
    const conflict = await apiError(core.replaceNamespacedSecret({ namespace: "t", name: "s", body: stale }));
    expect(conflict).toMatchObject({ code: 409, body: { reason: "Conflict" } });
    const noNs = await apiError(
      core.createNamespacedConfigMap({ namespace: "absent", body: { metadata: { name: "x" } } }),
    );
    expect(noNs.code).toBe(404);
  });

  it("applies server-side: creates, updates, and drops fields the manager no longer applies", async () => {
    const first = deployment("applied", [
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    await objects.patch(first, undefined, undefined, "test-manager", true, PatchStrategy.ServerSideApply);
    const second = deployment("applied", [{ name: "A", value: "10" }]);
    await objects.patch(second, undefined, undefined, "test-manager", true, PatchStrategy.ServerSideApply);
    const live = await apps.readNamespacedDeployment({ namespace: "t", name: "applied" });
    expect(live.spec?.template.spec?.containers[0]?.env).toEqual([{ name: "A", value: "10" }]);
    expect(live.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toContainEqual([
      "test-manager",
      "Apply",
    ]);
    expect(live.metadata?.generation).toBe(2);
  });

  it("merges with JSON merge patch and strategic merge patch", async () => {
    await apps.createNamespacedDeployment({
      namespace: "t",
      body: deployment("patched", [{ name: "A", value: "1" }]),
    });
    await objects.patch(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "patched", namespace: "t", labels: { extra: "yes" } },
      },
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    await objects.patch(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "patched", namespace: "t" },
        spec: { template: { spec: { containers: [{ name: "main", env: [{ name: "B", value: "2" }] }] } } },
      } as never,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    const live = await apps.readNamespacedDeployment({ namespace: "t", name: "patched" });
    expect(live.metadata?.labels).toEqual({ app: "patched", extra: "yes" });
    const c = live.spec?.template.spec?.containers[0];
    expect(c?.image).toBe("busybox");
    expect(c?.env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
  });

  it("updates status only through the status subresource", async () => {
    const quota = { metadata: { name: "q" }, spec: { hard: { pods: "3" } } };
    await core.createNamespacedResourceQuota({ namespace: "t", body: quota });
    const live = await core.readNamespacedResourceQuota({ namespace: "t", name: "q" });
    await core.replaceNamespacedResourceQuota({
      namespace: "t",
      name: "q",
      body: { ...live, status: { used: { pods: "9" } } },
    });
    expect((await core.readNamespacedResourceQuota({ namespace: "t", name: "q" })).status).toBeUndefined();
    const fresh = await core.readNamespacedResourceQuota({ namespace: "t", name: "q" });
    await core.replaceNamespacedResourceQuotaStatus({
      namespace: "t",
      name: "q",
      body: { ...fresh, status: { used: { pods: "2" } } },
    });
    const after = await core.readNamespacedResourceQuota({ namespace: "t", name: "q" });
    expect(after.status?.used).toEqual({ pods: "2" });
    expect(after.spec?.hard).toEqual({ pods: "3" });
  });

  it("scales through the scale subresource", async () => {
    await apps.createNamespacedDeployment({ namespace: "t", body: deployment("scaled") });
    const scale = await apps.readNamespacedDeploymentScale({ namespace: "t", name: "scaled" });
    expect(scale).toMatchObject({ kind: "Scale", spec: { replicas: 0 }, status: { selector: "app=scaled" } });
    await apps.replaceNamespacedDeploymentScale({
      namespace: "t",
      name: "scaled",
      body: { ...scale, spec: { replicas: 2 } },
    });
    expect((await apps.readNamespacedDeployment({ namespace: "t", name: "scaled" })).spec?.replicas).toBe(2);
    const negative = await apiError(
      apps.replaceNamespacedDeploymentScale({
        namespace: "t",
        name: "scaled",
        body: { ...scale, spec: { replicas: -1 } },
      }),
    );
    expect(negative).toMatchObject({ code: 422, body: { reason: "Invalid" } });
  });

  it("watches from a resourceVersion: later changes only, in order", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: "t" });
    const events: string[] = [];
    const watch = new Watch(h.kc);
    const done = new Promise<void>((resolve) => {
      void watch
        .watch(
          "/api/v1/namespaces/t/configmaps",
          { resourceVersion: list.metadata?.resourceVersion, labelSelector: "w=1" },
          (type, obj) => {
            events.push(`${type} ${obj.metadata.name}`);
            if (type === "DELETED") resolve();
          },
          () => {},
        )
        .then((req) => done.finally(() => req.abort()));
    });
    await new Promise((r) => setTimeout(r, 100));
    await core.createNamespacedConfigMap({
      namespace: "t",
      body: { metadata: { name: "w", labels: { w: "1" } } },
    });
    await core.createNamespacedConfigMap({ namespace: "t", body: { metadata: { name: "unwatched" } } });
    await core.patchNamespacedConfigMap({
      namespace: "t",
      name: "w",
      body: [{ op: "add", path: "/data", value: { x: "y" } }],
    });
    await core.deleteNamespacedConfigMap({ namespace: "t", name: "w" });
    await done;
    expect(events).toEqual(["ADDED w", "MODIFIED w", "DELETED w"]);
  });

  it("answers a watch from a compacted resourceVersion with 410 Gone", async () => {
    const events: { type: string; obj: Record<string, unknown> }[] = [];
    await new Promise<void>((resolve) => {
      void new Watch(h.kc).watch(
        "/api/v1/namespaces/t/configmaps",
        { resourceVersion: "-5" },
        (type, obj) => events.push({ type, obj }),
        () => resolve(),
      );
    });
    expect(events[0]).toMatchObject({ type: "ERROR", obj: { code: 410, reason: "Expired" } });
  });
});
