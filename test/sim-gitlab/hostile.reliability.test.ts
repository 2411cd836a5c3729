// The GitLab simulator under hostile input, generated with fast-check: prototype keys, malformed bodies,
// wrong content types, huge bodies, bad tokens, bad %-encoding and out-of-order trace ranges. Each answer
// is the status GitLab gives, nothing reaches Object.prototype, and the state read back afterwards is
// what it was. One row per attack family goes into the reliability table.

import { createHash } from "node:crypto";
import { request } from "node:http";
import { Gitlab } from "@gitbeaker/rest";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { recordRow } from "../reliability/table.ts";

let sim: GitLabSimulator;
let runnerToken: string;
let projectId: number;
let runningJob: { id: number; token: string };

const PROTOTYPE_OBJECT_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
const PROTOTYPE_ARRAY_KEYS = Object.getOwnPropertyNames(Array.prototype).sort();
const prototypesUntouched = () =>
  JSON.stringify(Object.getOwnPropertyNames(Object.prototype).sort()) ===
    JSON.stringify(PROTOTYPE_OBJECT_KEYS) &&
  JSON.stringify(Object.getOwnPropertyNames(Array.prototype).sort()) === JSON.stringify(PROTOTYPE_ARRAY_KEYS);

/** Everything the simulator holds, as text (contact times left out: a valid runner call updates them). */
function snapshot(): string {
  return JSON.stringify(
    {
      users: [...sim.store.users.values()],
      tokens: [...sim.store.tokens.entries()],
      projects: [...sim.store.projects.values()].map((p) => ({
        ...p,
        repo: { branches: [...p.repo.branches.entries()], commits: [...p.repo.commits.keys()] },
      })),
      pipelines: [...sim.store.pipelines.values()],
      jobs: [...sim.store.jobs.values()],
      runners: [...sim.store.runners.values()].map(({ contactedAt: _, ...r }) => r),
    },
    (_key, value) =>
      value && typeof value === "object" && value.type === "Buffer" && Array.isArray(value.data)
        ? createHash("sha256").update(Buffer.from(value.data)).digest("hex")
        : value,
  );
}

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 20 }).start();
  const api = new Gitlab({ host: sim.url, token: sim.rootToken });
  projectId = (await api.Projects.create({ name: "hostile" })).id;
  await api.Commits.create(projectId, "main", "ci", [
    { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo]\n" },
  ]);
  runnerToken = (await api.Users.createCIRunner("instance_type", { runUntagged: true })).token as string;
  await api.Pipelines.create(projectId, "main");
  const res = await fetch(`${sim.url}/api/v4/jobs/request`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: runnerToken, info: { features: {} } }),
  });
  const job = (await res.json()) as { id: number; token: string };
  runningJob = { id: job.id, token: job.token };
  const first = await patchTrace(runningJob.token, "0-5", "hello\n");
  expect(first.status).toBe(202);
});
afterAll(() => sim.stop());

function patchTrace(token: string, range: string, body: string) {
  return fetch(`${sim.url}/api/v4/jobs/${runningJob.id}/trace`, {
    method: "PATCH",
    headers: { "JOB-TOKEN": token, "Content-Range": range, "Content-Type": "text/plain" },
    body,
  });
}

// --- generators -------------------------------------------------------------------------------------

const prototypeKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
);
/** The parameters the simulator's endpoints read: hostile values there reach the handlers. */
const KNOWN_PARAMS = [
  ..."actions content encoding exit_code failure_reason info maximum_timeout page paused per_page project_id".split(
    " ",
  ),
  ..."ref run_untagged scope scopes source state status tag_list token variables branch commit_message".split(
    " ",
  ),
  ..."description name path ref_name runner_type start_branch file_path action key value variable_type".split(
    " ",
  ),
  ..."features last_update".split(" "),
];
const knownParam = fc.constantFrom(...KNOWN_PARAMS);
const anyKey = fc.oneof(prototypeKey, knownParam, fc.string({ maxLength: 6 }), fc.constant(""));
/** A Rails-style parameter name: `a`, `a[]`, `a[b][c]`, with prototype keys anywhere. */
const paramName = fc
  .tuple(fc.oneof(prototypeKey, knownParam), fc.array(anyKey, { maxLength: 3 }))
  .map(([head, rest]) => head + rest.map((k) => `[${k}]`).join(""));
const queryString = fc
  .array(fc.tuple(paramName, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 4 })
  .map((pairs) => pairs.map(([k, v]) => `${k.replace(/[&=#]/g, "")}=${encodeURIComponent(v)}`).join("&"));

/** JSON text whose objects may carry prototype keys as their own keys (JSON.stringify cannot make these). */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
    fc.constantFrom("1", "-1", "0", "true", "null", '"main"', '"x".repeat', "1e400", '"__proto__"'),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(anyKey, tie("value")), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  ),
})).value;

const ROUTES: [string, string][] = [
  ["GET", "/api/v4/version"],
  ["GET", "/api/v4/user"],
  ["GET", "/api/v4/projects"],
  ["POST", "/api/v4/projects"],
  ["GET", "/api/v4/projects/:id"],
  ["POST", "/api/v4/projects/:id/repository/branches"],
  ["POST", "/api/v4/projects/:id/repository/commits"],
  ["GET", "/api/v4/projects/:id/repository/commits"],
  ["GET", "/api/v4/projects/:id/repository/files/README.md"],
  ["POST", "/api/v4/projects/:id/repository/files/x.txt"],
  ["POST", "/api/v4/projects/:id/pipeline"],
  ["GET", "/api/v4/projects/:id/pipelines"],
  ["GET", "/api/v4/projects/:id/jobs"],
  ["POST", "/api/v4/users/1/personal_access_tokens"],
  ["POST", "/api/v4/user/runners"],
  ["GET", "/api/v4/runners/all"],
  ["POST", "/api/v4/runners/verify"],
  ["DELETE", "/api/v4/runners"],
  ["POST", "/api/v4/jobs/request"],
  ["PUT", "/api/v4/jobs/:job"],
  ["PATCH", "/api/v4/jobs/:job/trace"],
];
const route = fc
  .constantFrom(...ROUTES)
  .map(([m, p]) => [m, p.replace(":id", String(projectId)).replace(":job", String(runningJob.id))] as const);
const badToken = fc.oneof(
  fc.string({ maxLength: 30 }).filter((t) => !/[\r\n\0]/.test(t)),
  fc.string({ minLength: 20, maxLength: 20 }).map((t) => `glrt-${t}`.replace(/[^\x21-\x7e]/g, "x")),
  fc.constant(""),
);

interface Sent {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}
async function send(s: Sent): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sim.url}${s.path}${s.query ? `?${s.query}` : ""}`, {
    method: s.method,
    headers: s.headers,
    body: s.method === "GET" || s.body === undefined ? undefined : new Uint8Array(Buffer.from(s.body)),
  });
  return { status: res.status, text: await res.text() };
}

const results = { sent: 0, serverErrors: [] as string[], changedAfterRefusal: [] as string[], polluted: 0 };
function tally(family: string, what: Sent, status: number, before: string) {
  results.sent++;
  if (status >= 500)
    results.serverErrors.push(`${family}: ${what.method} ${what.path}?${what.query ?? ""} → ${status}`);
  if (status >= 400 && snapshot() !== before)
    results.changedAfterRefusal.push(`${family}: ${what.method} ${what.path} → ${status}`);
  if (!prototypesUntouched()) results.polluted++;
}

describe("GitLab simulator under hostile input", () => {
  it("prototype keys in query strings, form bodies and JSON bodies stay ordinary keys", async () => {
    let runs = 0;
    let authenticated = 0;
    await fc.assert(
      fc.asyncProperty(
        route,
        queryString,
        fc.constantFrom("query", "form", "json"),
        jsonText,
        async ([method, path], query, where, json) => {
          runs++;
          const before = snapshot();
          const sent: Sent =
            where === "query"
              ? { method, path, query }
              : where === "form"
                ? {
                    method,
                    path,
                    headers: { "Content-Type": "application/x-www-form-urlencoded" },
                    body: query,
                  }
                : { method, path, headers: { "Content-Type": "application/json" }, body: json };
          const { status } = await send(sent);
          tally("prototype keys", sent, status, before);
          // The attack from issue 12: afterwards, a runner call without a token must not authenticate.
          const probe = await send({
            method: "POST",
            path: "/api/v4/runners/verify",
            headers: { "Content-Type": "application/json" },
            body: "{}",
          });
          if (probe.status !== 400) authenticated++;
          expect(status).toBeLessThan(500);
          expect(prototypesUntouched()).toBe(true);
        },
      ),
      { numRuns: 250 },
    );
    recordRow({
      check: "gitlab-sim: prototype keys",
      did: `${runs} generated __proto__/constructor/prototype parameter paths in queries, form and JSON bodies at ${ROUTES.length} routes`,
      figure: `${results.polluted} pollutions, ${authenticated} token-less authentications`,
      ok: results.polluted === 0 && authenticated === 0,
    });
    expect(authenticated).toBe(0);
  });

  it("every parameter of every route, given a hash, an array, a number or null, gets a 4xx or works", async () => {
    const shapes = (name: string) => [
      { query: `${name}[a]=1` },
      { query: `${name}[]=1&${name}[]=2` },
      ...["null", "-1.5", '[{"a":null}]', '{"constructor":{"prototype":{"a":1}}}'].map((v) => ({
        json: `{${JSON.stringify(name)}:${v}}`,
      })),
    ];
    const errorsBefore = results.serverErrors.length;
    let sent = 0;
    for (const [method, template] of ROUTES) {
      const path = template.replace(":id", String(projectId)).replace(":job", String(runningJob.id));
      for (const name of KNOWN_PARAMS)
        for (const shape of shapes(name)) {
          const before = snapshot();
          const headers: Record<string, string> = { "Private-Token": sim.rootToken };
          const request: Sent =
            "query" in shape
              ? { method, path, query: shape.query, headers }
              : {
                  method,
                  path,
                  headers: { ...headers, "Content-Type": "application/json" },
                  body: shape.json,
                };
          const { status } = await send(request);
          tally("parameter shapes", request, status, before);
          sent++;
        }
    }
    const found = results.serverErrors.slice(errorsBefore);
    recordRow({
      check: "gitlab-sim: hostile parameter values",
      did: `${sent} requests: each of ${KNOWN_PARAMS.length} parameters at each of ${ROUTES.length} routes as hash, array, number, null`,
      figure: `${found.length} 5xx`,
      ok: found.length === 0,
    });
    expect(found).toEqual([]);
  });

  it("malformed bodies and wrong content types get GitLab's 4xx and change nothing", async () => {
    let runs = 0;
    const errorsBefore = results.serverErrors.length;
    const contentType = fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/xml",
      "multipart/form-data",
      "application/json; charset=latin1",
    );
    const body = fc.oneof(
      jsonText.map((t) => t.slice(0, Math.max(1, Math.floor(t.length / 2)))),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 40 }),
      jsonText,
    );
    await fc.assert(
      fc.asyncProperty(
        route,
        contentType,
        body,
        fc.boolean(),
        async ([method, path], type, payload, withToken) => {
          runs++;
          const before = snapshot();
          const sent: Sent = {
            method,
            path,
            headers: { "Content-Type": type, ...(withToken ? { "Private-Token": sim.rootToken } : {}) },
            body: payload,
          };
          const { status } = await send(sent);
          tally("malformed bodies", sent, status, before);
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
    const found = results.serverErrors.length - errorsBefore;
    recordRow({
      check: "gitlab-sim: malformed bodies, wrong content types",
      did: `${runs} truncated JSON, random bytes and mislabelled bodies (6 content types), with and without a token`,
      figure: `${found} 5xx, ${results.changedAfterRefusal.length} refusals that changed state`,
      ok: found === 0 && results.changedAfterRefusal.length === 0,
    });
    expect(results.changedAfterRefusal).toEqual([]);
  });

  it("bad tokens are refused (401/403) at the REST, runner and job APIs and change nothing", async () => {
    let runs = 0;
    let wrong = 0;
    await fc.assert(
      fc.asyncProperty(
        badToken,
        fc.constantFrom("rest", "runner", "job-put", "job-trace", "git"),
        async (token, api) => {
          runs++;
          const before = snapshot();
          const sent: Sent =
            api === "rest"
              ? { method: "GET", path: "/api/v4/projects", headers: { "Private-Token": token } }
              : api === "runner"
                ? {
                    method: "POST",
                    path: "/api/v4/jobs/request",
                    headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ token }),
                  }
                : api === "job-put"
                  ? {
                      method: "PUT",
                      path: `/api/v4/jobs/${runningJob.id}`,
                      headers: { "Content-Type": "application/json" },
                      body: JSON.stringify({ token, state: "success" }),
                    }
                  : api === "job-trace"
                    ? {
                        method: "PATCH",
                        path: `/api/v4/jobs/${runningJob.id}/trace`,
                        headers: { "JOB-TOKEN": token, "Content-Range": "6-8", "Content-Type": "text/plain" },
                        body: "xyz",
                      }
                    : {
                        method: "GET",
                        path: "/root/hostile.git/info/refs",
                        headers: { Authorization: `Basic ${Buffer.from(`x:${token}`).toString("base64")}` },
                      };
          if (!token && api === "rest") delete sent.headers!["Private-Token"];
          const { status } = await send(sent);
          tally("bad tokens", sent, status, before);
          // GitLab: 401 for REST and git without valid credentials; 403 for a runner or job token it does not
          // know; 400 when the runner token is missing altogether.
          const expected =
            api === "rest" || api === "git" ? [401] : api === "runner" && token === "" ? [400, 403] : [403];
          if (!expected.includes(status)) wrong++;
          expect(expected).toContain(status);
        },
      ),
      { numRuns: 200 },
    );
    recordRow({
      check: "gitlab-sim: bad tokens",
      did: `${runs} generated tokens at REST, runner, job update, job trace and git`,
      figure: `${wrong} answers other than 401/403, state unchanged`,
      ok: wrong === 0,
    });
  });

  it("out-of-order trace ranges get 416 with the Range GitLab holds, and the trace stays as it was", async () => {
    let runs = 0;
    let wrong = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(200), fc.string({ minLength: 1, maxLength: 20 }), async (start, text) => {
        const held = sim.store.jobs.get(runningJob.id)!.trace.length;
        fc.pre(start !== held);
        runs++;
        const before = snapshot();
        const res = await patchTrace(
          runningJob.token,
          `${start}-${start + Buffer.byteLength(text) - 1}`,
          text,
        );
        tally("trace ranges", { method: "PATCH", path: "trace" }, res.status, before);
        const ok = res.status === 416 && res.headers.get("range") === `0-${held}` && snapshot() === before;
        if (!ok) wrong++;
        expect([res.status, res.headers.get("range")]).toEqual([416, `0-${held}`]);
      }),
      { numRuns: 150 },
    );
    recordRow({
      check: "gitlab-sim: out-of-order trace ranges",
      did: `${runs} PATCH /jobs/:id/trace with a Content-Range not at the trace's end`,
      figure: `${wrong} answers other than 416 + Range 0-<held>, trace unchanged`,
      ok: wrong === 0,
    });
  });

  it("bad %-encoding and NUL bytes in paths and queries get GitLab's 400 Bad Request", async () => {
    let runs = 0;
    let wrong = 0;
    const broken = fc.oneof(
      fc.constantFrom("%", "%z", "%zz", "%E0%A4%A", "%C3", "%FF", "%00", "%C0%80"),
      fc.constantFrom(..."0123456789abcdefABCDEF").map((h) => `%${h}`),
    );
    await fc.assert(
      fc.asyncProperty(route, broken, fc.boolean(), async ([method, path], bad, inQuery) => {
        runs++;
        const before = snapshot();
        const sent: Sent = inQuery
          ? { method, path, query: `ref=${bad}` }
          : { method, path: `${path}/${bad}` };
        const { status, text } = await send({ ...sent, headers: { "Private-Token": sim.rootToken } });
        tally("bad encoding", sent, status, before);
        if (status !== 400 || text !== "Bad Request") wrong++;
        expect([status, text]).toEqual([400, "Bad Request"]);
      }),
      { numRuns: 150 },
    );
    recordRow({
      check: "gitlab-sim: bad %-encoding",
      did: `${runs} broken escapes, invalid UTF-8 and NUL in paths and queries`,
      figure: `${wrong} answers other than 400 Bad Request`,
      ok: wrong === 0,
    });
  });

  it("huge bodies get 413, not a reset, and change nothing", async () => {
    const before = snapshot();
    const statuses: number[] = [];
    for (const size of [33 * 1024 * 1024, 50 * 1000 * 1000]) {
      const res = await fetch(`${sim.url}/api/v4/projects`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Private-Token": sim.rootToken },
        body: Buffer.alloc(size, 0x20),
      });
      statuses.push(res.status);
    }
    statuses.push(await chunkedUpload(40));
    const figure = `${statuses.filter((s) => s === 413).length} of ${statuses.length} answered 413`;
    recordRow({
      check: "gitlab-sim: huge bodies",
      did: "33 MiB and 50 MB with Content-Length, 40 MiB chunked",
      figure,
      ok: statuses.every((s) => s === 413) && snapshot() === before,
    });
    expect(statuses).toEqual([413, 413, 413]);
    expect(snapshot()).toBe(before);
  });

  afterAll(() => {
    recordRow({
      check: "gitlab-sim: 5xx under all hostile input",
      did: `${results.sent} hostile requests across the families above`,
      figure: `${results.serverErrors.length} 5xx, ${results.polluted} prototype pollutions`,
      ok: results.serverErrors.length === 0 && results.polluted === 0,
    });
  });
});

function chunkedUpload(mebibytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}/api/v4/projects`,
      { method: "POST", headers: { "Private-Token": sim.rootToken } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < mebibytes && req.write(chunk)) sent++;
      if (sent < mebibytes) req.once("drain", pump);
      else req.end();
    };
    pump();
  });
}
