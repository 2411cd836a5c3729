// git over HTTP for projects in any namespace (a group, a subgroup, a user), found by full path, with the
// real git client: the dumb protocol, the smart one with --depth, a running job's token (the URL a CI job
// clones from), and GitLab's answers for bad credentials (401) and a project that does not exist (404).

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";

let sim: GitLabSimulator;
let api: InstanceType<typeof Gitlab>;
const dir = mkdtempSync(join(tmpdir(), "wsparity-git-paths-"));
// No credential helper, no prompt, no user config: git uses only the URL's credentials.
const gitEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_TERMINAL_PROMPT: "0" };

// The simulator runs in this process: git must run asynchronously or it would wait on us forever.
function git(...args: (string | Record<string, string>)[]) {
  const env = { ...gitEnv, ...args.find((a) => typeof a !== "string") };
  const argv = args.filter((a) => typeof a === "string");
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile("git", argv, { encoding: "utf8", timeout: 20_000, env }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const urlOf = (path: string, user: string, password: string) =>
  `${sim.url.replace("http://", `http://${user}:${password}@`)}/${path}.git`;

/** A project at `namespace/name` with `commits` commits on main; its last commit's id. */
async function projectIn(namespaceId: number | undefined, name: string, commits: number) {
  const project = await api.Projects.create({ name, ...(namespaceId ? { namespaceId } : {}) });
  let sha = "";
  for (let i = 0; i < commits; i++) {
    const commit = await api.Commits.create(project.id, "main", `commit ${i} [skip ci]`, [
      { action: i === 0 ? "create" : "update", filePath: "README.md", content: `${name} ${i}\n` },
    ]);
    sha = commit.id;
  }
  return { project, sha };
}

let group: { id: number; full_path: string };
let subgroup: { id: number; full_path: string };

beforeAll(async () => {
  sim = await new GitLabSimulator().start();
  api = new Gitlab({ host: sim.url, token: sim.rootToken });
  group = (await api.Groups.create("wsparity", "wsparity")) as typeof group;
  subgroup = (await api.Groups.create("Team", "team", { parentId: group.id })) as typeof subgroup;
});

afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("git over HTTP for any project path", () => {
  it("clones a group project and a subgroup project by full path, each with its own files", async () => {
    const inGroup = await projectIn(group.id, "workspaces", 1);
    const inSubgroup = await projectIn(subgroup.id, "workspaces", 2);
    // The same name in the user namespace: found by full path, not by name.
    await projectIn(undefined, "workspaces", 1);
    expect(inSubgroup.project.path_with_namespace).toBe("wsparity/team/workspaces");

    const a = join(dir, "group");
    const cloneA = await git("clone", "-q", urlOf("wsparity/workspaces", "root", sim.rootToken), a);
    expect(cloneA.stderr).toBe("");
    expect(readFileSync(join(a, "README.md"), "utf8")).toBe("workspaces 0\n");
    expect((await git("-C", a, "rev-parse", "HEAD")).stdout.trim()).toBe(inGroup.sha);

    // The dumb protocol (GIT_SMART_HTTP=0: git asks for plain files) on a subgroup path.
    const b = join(dir, "subgroup");
    const cloneB = await git(
      { GIT_SMART_HTTP: "0" },
      "clone",
      "-q",
      urlOf("wsparity/team/workspaces", "root", sim.rootToken),
      b,
    );
    expect(cloneB.stderr).toBe("");
    expect(readFileSync(join(b, "README.md"), "utf8")).toBe("workspaces 1\n");
    expect((await git("-C", b, "rev-list", "--count", "HEAD")).stdout.trim()).toBe("2");
    const dumb = await fetch(`${sim.url}/wsparity/team/workspaces.git/info/refs`, {
      headers: { authorization: `Basic ${Buffer.from(`root:${sim.rootToken}`).toString("base64")}` },
    });
    expect([dumb.status, (await dumb.text()).trim()]).toEqual([200, `${inSubgroup.sha}\trefs/heads/main`]);
  });

  it("fetches a subgroup project shallowly (--depth) with a running job's token, as a CI job does", async () => {
    const { project, sha } = await projectIn(subgroup.id, "shallow", 3);
    await api.Commits.create(project.id, "main", "ci", [
      { action: "create", filePath: ".gitlab-ci.yml", content: "job:\n  script: [echo hi]\n" },
    ]);
    const runner = await api.Users.createCIRunner("instance_type", { runUntagged: true });
    await api.Pipelines.create(project.id, "main");
    const request = await fetch(`${sim.url}/api/v4/jobs/request`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: runner.token, info: { features: { refspecs: true } } }),
    });
    const job = (await request.json()) as { token: string; git_info: { repo_url: string; sha: string } };
    expect(job.git_info.repo_url).toBe(urlOf("wsparity/team/shallow", "gitlab-ci-token", job.token));

    const clone = join(dir, "shallow");
    await git("init", "-q", clone);
    const fetched = await git("-C", clone, "fetch", "-q", "--depth", "1", job.git_info.repo_url, "main");
    expect(fetched.stderr).toBe("");
    expect((await git("-C", clone, "rev-list", "--count", "FETCH_HEAD")).stdout.trim()).toBe("1");
    expect((await git("-C", clone, "rev-parse", "FETCH_HEAD")).stdout.trim()).toBe(job.git_info.sha);
    expect(job.git_info.sha).not.toBe(sha);

    // Once the job is over its token opens nothing.
    await fetch(`${sim.url}/api/v4/jobs/${(job as unknown as { id: number }).id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: job.token, state: "success" }),
    });
    const after = await git("ls-remote", job.git_info.repo_url);
    expect(after.status).not.toBe(0);
    expect(after.stderr).toMatch(/Authentication failed|401/);
  });

  it("answers 401 to bad credentials and 404 to a project that does not exist, as GitLab does", async () => {
    await projectIn(subgroup.id, "guarded", 1);
    const denied = await git("ls-remote", urlOf("wsparity/team/guarded", "root", "wrong"));
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/Authentication failed|401/);

    const missing = await git("ls-remote", urlOf("wsparity/team/absent", "root", sim.rootToken));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/not found|404/);
    const answer = await fetch(`${sim.url}/wsparity/absent.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Basic ${Buffer.from(`root:${sim.rootToken}`).toString("base64")}` },
    });
    expect(answer.status).toBe(404);
  });
});
