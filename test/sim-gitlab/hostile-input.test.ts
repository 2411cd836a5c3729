// Regressions for issue 12's GitLab simulator defects: prototype pollution through query strings and
// bodies (defect 4) and the statuses GitLab answers to huge bodies, bad %-encoding and malformed
// parameters (defect 10).

import { request } from "node:http";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";

let sim: GitLabSimulator;
let runnerToken: string;
let projectId: number;

beforeAll(async () => {
  sim = await new GitLabSimulator({ longPollMs: 50 }).start();
  const api = new Gitlab({ host: sim.url, token: sim.rootToken });
  projectId = (await api.Projects.create({ name: "hostile" })).id;
  await api.Commits.create(projectId, "main", "ci", [
    { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo]\n" },
  ]);
  runnerToken = (await api.Users.createCIRunner("instance_type", { runUntagged: true })).token as string;
});
afterAll(() => sim.stop());

// If a regression pollutes the prototype, undo it so the other tests in this worker stay honest.
afterEach(() => {
  for (const key of ["token", "polluted"]) {
    delete (Object.prototype as Record<string, unknown>)[key];
    delete (Array.prototype as unknown as Record<string, unknown>)[key];
  }
});

const requestJobWithoutToken = () =>
  fetch(`${sim.url}/api/v4/jobs/request`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ info: { name: "attacker" } }),
  });

describe("prototype keys in parameters stay ordinary keys (defect 4)", () => {
  const attacks: [string, () => Promise<Response>][] = [
    ["query __proto__[token]", () => fetch(`${sim.url}/api/v4/version?__proto__[token]=${runnerToken}`)],
    [
      "query constructor[prototype][token]",
      () => fetch(`${sim.url}/api/v4/version?constructor[prototype][token]=${runnerToken}`),
    ],
    [
      "form body __proto__[token]",
      () =>
        fetch(`${sim.url}/api/v4/projects`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: `__proto__[token]=${runnerToken}`,
        }),
    ],
    [
      "query a[]=1&a[__proto__][token]",
      () => fetch(`${sim.url}/api/v4/version?a[]=1&a[__proto__][token]=${runnerToken}`),
    ],
  ];
  it.each(attacks)("%s does not authenticate a later token-less runner call", async (_name, attack) => {
    await attack();
    expect(({} as Record<string, unknown>).token).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).token).toBeUndefined();
    const res = await requestJobWithoutToken();
    expect([res.status, await res.json()]).toEqual([400, { error: "token is missing" }]);
  });

  it("a JSON body's __proto__ key is the body's own key, not the request's token", async () => {
    const res = await fetch(`${sim.url}/api/v4/jobs/request`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"__proto__": {"token": "${runnerToken}"}, "info": {"__proto__": {"polluted": 1}}}`,
    });
    expect([res.status, await res.json()]).toEqual([400, { error: "token is missing" }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("GitLab's statuses for malformed requests (defect 10)", () => {
  it("answers a 50 MB body with 413, not a connection reset", async () => {
    const res = await fetch(`${sim.url}/api/v4/projects/${projectId}/pipeline`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Private-Token": sim.rootToken },
      body: Buffer.alloc(50 * 1024 * 1024, 0x20),
    });
    expect(res.status).toBe(413);
  });

  it("answers a chunked body that grows past the limit with 413, not a reset", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      let answered = false;
      const req = request(`${sim.url}/api/v4/jobs/request`, { method: "POST" }, (res) => {
        answered = true;
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server closes after its 413 (Connection: close), so a write still in flight may fail with EPIPE;
      // on a loaded machine that error can be emitted just before the answer is parsed. A reset with no answer
      // at all is still a failure.
      req.on("error", (err) => setTimeout(() => answered || reject(err), 500));
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (!answered && sent < 50 && req.write(chunk)) sent++;
        if (answered) return;
        if (sent < 50) req.once("drain", pump);
        else req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it.each([
    ["a path", `/api/v4/projects/%E0%A4%A`],
    ["a path with an incomplete escape", `/api/v4/projects/%zz`],
    ["a query", `/api/v4/projects?search=%E0%A4%A`],
    ["a NUL byte in a path", `/api/v4/projects/a%00b`],
  ])("answers bad percent-encoding in %s with GitLab's 400 Bad Request", async (_what, path) => {
    const res = await fetch(`${sim.url}${path}`, { headers: { "Private-Token": sim.rootToken } });
    expect([res.status, await res.text()]).toEqual([400, "Bad Request"]);
  });

  it("answers malformed JSON with GitLab's 400 Bad Request", async () => {
    const res = await fetch(`${sim.url}/api/v4/jobs/request`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"token": ',
    });
    expect([res.status, await res.text()]).toEqual([400, "Bad Request"]);
  });

  it.each([
    [[null], "variables is invalid"],
    [["KEY"], "variables is invalid"],
    [[{ key: "K", value: { nested: 1 } }], "variables[0][value] is invalid"],
  ])("answers pipeline variables %j with Grape's 400", async (variables, error) => {
    const before = (await (await api().get(`projects/${projectId}/pipelines`)).json()) as unknown[];
    const res = await api().post(`projects/${projectId}/pipeline`, { ref: "main", variables });
    expect([res.status, await res.json()]).toEqual([400, { error }]);
    const after = (await (await api().get(`projects/${projectId}/pipelines`)).json()) as unknown[];
    expect(after).toEqual(before);
  });
});

function api() {
  const call = (method: string) => (path: string, body?: unknown) =>
    fetch(`${sim.url}/api/v4/${path}`, {
      method,
      headers: { "Content-Type": "application/json", "Private-Token": sim.rootToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { get: call("GET"), post: call("POST") };
}
