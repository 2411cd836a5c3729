// The Kubernetes simulator under hostile input, generated with fast-check: prototype keys in bodies and
// patches, malformed bodies, wrong content types, huge bodies, bad tokens and bad %-escapes. Each answer is
// kube-apiserver's status (never a 5xx), nothing reaches Object.prototype, and after every refusal the
// objects read back are what they were. One row per attack family goes into the reliability table.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubernetesApiServer, ObjectStore } from "../../src/sim/kubernetes/index.ts";
import { RESOURCE_TYPES } from "../../src/sim/kubernetes/resources.ts";
import { recordRow } from "../reliability/table.ts";

const TOKEN = "reliability-token";
const store = new ObjectStore();
let server: KubernetesApiServer;
let url: string;

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();
const prototypesUntouched = () =>
  Object.getOwnPropertyNames(Object.prototype).sort().join() === PROTOTYPE_KEYS;
const snapshot = () =>
  JSON.stringify(RESOURCE_TYPES.map((rt) => store.list(rt, undefined, undefined, true))) +
  store.resourceVersion;

const OBJECTS = [
  ["/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/configmaps/cm"],
  ["/api/v1/namespaces/default/secrets", "/api/v1/namespaces/default/secrets/s"],
  ["/api/v1/namespaces/default/services", "/api/v1/namespaces/default/services/svc"],
  ["/apis/apps/v1/namespaces/default/deployments", "/apis/apps/v1/namespaces/default/deployments/d"],
] as const;

beforeAll(async () => {
  server = new KubernetesApiServer({ store, token: TOKEN });
  url = await server.listen();
  const create = (path: string, body: unknown) =>
    call("POST", path, JSON.stringify(body), "application/json").then((r) => expect(r.status).toBe(201));
  await create(OBJECTS[0][0], {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm" },
    data: { a: "1" },
  });
  await create(OBJECTS[1][0], {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s" },
    stringData: { k: "v" },
  });
  await create(OBJECTS[2][0], {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "svc" },
    spec: { ports: [{ port: 80 }], selector: { app: "x" } },
  });
  await create(OBJECTS[3][0], {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "x" } },
      template: {
        metadata: { labels: { app: "x" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    },
  });
});
afterAll(() => server.close());

async function call(method: string, path: string, body?: string | Buffer, type?: string, token = TOKEN) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(type ? { "Content-Type": type } : {}),
    },
    body: body === undefined ? undefined : new Uint8Array(Buffer.from(body)),
  });
  await res.arrayBuffer();
  return res;
}

const prototypeKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf");
const anyKey = fc.oneof(
  prototypeKey,
  fc.constantFrom("metadata", "spec", "data", "labels", "name", "kind"),
  fc.string({ maxLength: 5 }),
);
/** JSON text whose objects may carry prototype keys as their own keys (JSON.stringify cannot write these). */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(anyKey, tie("value")), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  ),
})).value;
const jsonPatchPath = fc
  .array(fc.oneof(prototypeKey, fc.constantFrom("metadata", "labels", "data", "spec", "0", "-")), {
    minLength: 1,
    maxLength: 4,
  })
  .map((parts) => `/${parts.join("/")}`);

const tally = { sent: 0, serverErrors: [] as string[], changedAfterRefusal: 0, polluted: 0 };
async function attempt(
  family: string,
  method: string,
  path: string,
  body?: string | Buffer,
  type?: string,
  token?: string,
) {
  const before = snapshot();
  const res = await call(method, path, body, type, token);
  tally.sent++;
  if (res.status >= 500)
    tally.serverErrors.push(`${family}: ${method} ${path} ${type ?? ""} → ${res.status}`);
  if (res.status >= 400 && snapshot() !== before) tally.changedAfterRefusal++;
  if (!prototypesUntouched()) tally.polluted++;
  return res.status;
}

describe("Kubernetes simulator under hostile input", () => {
  it("prototype keys in created objects and in merge, strategic and JSON patches never reach a prototype", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OBJECTS),
        fc.constantFrom("create", "merge", "strategic", "json-patch"),
        jsonText,
        jsonPatchPath,
        async ([collection, object], how, json, path) => {
          runs++;
          const status =
            how === "create"
              ? await attempt("prototype keys", "POST", collection, json, "application/json")
              : how === "json-patch"
                ? await attempt(
                    "prototype keys",
                    "PATCH",
                    object,
                    `[{"op":"add","path":${JSON.stringify(path)},"value":${json}}]`,
                    "application/json-patch+json",
                  )
                : await attempt(
                    "prototype keys",
                    "PATCH",
                    object,
                    json,
                    how === "merge"
                      ? "application/merge-patch+json"
                      : "application/strategic-merge-patch+json",
                  );
          expect(status).toBeLessThan(500);
          expect(prototypesUntouched()).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    recordRow({
      check: "kube-sim: prototype keys",
      did: `${runs} generated objects and merge/strategic/JSON patches with __proto__/constructor/prototype keys and paths`,
      figure: `${tally.polluted} pollutions, ${tally.serverErrors.length} 5xx`,
      ok: tally.polluted === 0 && tally.serverErrors.length === 0,
    });
  });

  it("malformed bodies and wrong content types get 400/415/422 and change nothing", async () => {
    let runs = 0;
    let wrong = 0;
    const type = fc.constantFrom(
      "application/json",
      "application/yaml",
      "text/plain",
      "application/xml",
      "application/merge-patch+json",
      "application/vnd.kubernetes.protobuf",
      "",
    );
    const body = fc.oneof(
      jsonText.map((t) => t.slice(0, Math.max(1, Math.floor(t.length / 2)))),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.string({ minLength: 1, maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OBJECTS),
        fc.constantFrom("POST", "PUT", "PATCH"),
        type,
        body,
        async ([collection, object], method, t, b) => {
          runs++;
          const status = await attempt(
            "malformed bodies",
            method,
            method === "POST" ? collection : object,
            b,
            t || undefined,
          );
          // Anything from a valid-but-odd body (2xx) to a refusal is kube's to give; a 5xx never is.
          if (status >= 500) wrong++;
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    recordRow({
      check: "kube-sim: malformed bodies, wrong content types",
      did: `${runs} truncated JSON, random bytes and text under 7 content types, POST/PUT/PATCH`,
      figure: `${wrong} 5xx, ${tally.changedAfterRefusal} refusals that changed state`,
      ok: wrong === 0 && tally.changedAfterRefusal === 0,
    });
    expect(tally.changedAfterRefusal).toBe(0);
  });

  it("bad tokens get 401 and change nothing", async () => {
    let runs = 0;
    let wrong = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }).filter((t) => t !== TOKEN && /^[\x21-\x7e]*$/.test(t)),
        fc.constantFrom(...OBJECTS),
        fc.constantFrom("GET", "DELETE", "PATCH"),
        async (token, [, object], method) => {
          runs++;
          const status = await attempt(
            "bad tokens",
            method,
            object,
            method === "PATCH" ? '{"data":{"x":"y"}}' : undefined,
            "application/merge-patch+json",
            token,
          );
          if (status !== 401) wrong++;
          expect(status).toBe(401);
        },
      ),
      { numRuns: 150 },
    );
    recordRow({
      check: "kube-sim: bad tokens",
      did: `${runs} generated bearer tokens on GET, DELETE, PATCH`,
      figure: `${wrong} answers other than 401, state unchanged`,
      ok: wrong === 0,
    });
  });

  it("bad %-escapes get Go's 400 and huge bodies get 413 RequestEntityTooLarge", async () => {
    let escapes = 0;
    let wrongEscapes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("%", "%z", "%zz", "%E0%A4%A", "%G0", "%%"),
        fc.constantFrom(...OBJECTS),
        async (bad, [collection]) => {
          escapes++;
          const status = await attempt("bad escapes", "GET", `${collection}/${bad}`);
          if (status !== 400) wrongEscapes++;
          expect(status).toBe(400);
        },
      ),
      { numRuns: 30 },
    );
    const big = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"x":"${"y".repeat(4 * 1024 * 1024)}"}}`;
    const huge = [
      await attempt("huge bodies", "POST", OBJECTS[0][0], big, "application/json"),
      await attempt("huge bodies", "PATCH", OBJECTS[0][1], big, "application/merge-patch+json"),
    ];
    recordRow({
      check: "kube-sim: bad %-escapes, huge bodies",
      did: `${escapes} broken escapes in paths; a 4 MiB create and a 4 MiB patch`,
      figure: `${wrongEscapes} answers other than 400; huge: ${huge.join(", ")}`,
      ok: wrongEscapes === 0 && huge.every((s) => s === 413),
    });
    expect(huge).toEqual([413, 413]);
  });

  afterAll(() => {
    recordRow({
      check: "kube-sim: 5xx under all hostile input",
      did: `${tally.sent} hostile requests across the families above`,
      figure: `${tally.serverErrors.length} 5xx, ${tally.polluted} pollutions, ${tally.changedAfterRefusal} refusals that changed state`,
      ok: tally.serverErrors.length === 0 && tally.polluted === 0 && tally.changedAfterRefusal === 0,
    });
  });
});
