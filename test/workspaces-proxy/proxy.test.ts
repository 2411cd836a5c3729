// The workspaces proxy between users and a workspace that GraphQL created and agentk applied: it asks GitLab
// about every new credential, carries HTTP (checked with curl) and CONNECT, and the workspace's url points at it.
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { Agentk } from "../../src/agentk/agentk.ts";
import { zoneResolution } from "../../src/harness/name-resolution.ts";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { GitLabUserAuth } from "../../src/workspaces-proxy/gitlab-auth.ts";
import { WorkspacesProxy } from "../../src/workspaces-proxy/server.ts";
import { WorkspaceUpstreams } from "../../src/workspaces-proxy/upstream.ts";
import { type SimHandle, startSim } from "../sim-kubernetes/sim-fixture.ts";
import { type PreparedGitLab, prepareGitLab } from "../support/remote-development.ts";
import { describeUnless } from "../support/skip.ts";

const run = promisify(execFile);
const missing = processKubeletUnavailable();
if (missing && process.env.CI) throw new Error(`CI must run the workspaces proxy test: ${missing}`);

const DEVFILE = `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes:
      gl/inject-editor: true
    container:
      image: registry.example.test/tooling:1
`;

describeUnless(missing)("the workspaces proxy", () => {
  let gl: PreparedGitLab;
  let k8s: SimHandle;
  let agentk: Agentk;
  let proxy: WorkspacesProxy;
  let upstreams: WorkspaceUpstreams;
  let dials = 0;
  let name = "";
  let url = "";
  const curl = async (...args: string[]) => {
    const { stdout } = await run("curl", ["-s", "-i", "--max-time", "10", ...args]).catch(
      (e) => e as { stdout: string },
    );
    return stdout;
  };
  const resolve = () => ["--resolve", `60001-${name}.workspaces.localtest:${proxy.port}:127.0.0.1`];

  beforeAll(async () => {
    gl = await prepareGitLab(
      { remoteDevelopment: { partialReconciliationIntervalSeconds: 1 } },
      { ".devfile.yaml": DEVFILE },
    );
    k8s = await startSim();
    upstreams = new WorkspaceUpstreams(k8s.kc, k8s.sim.connect);
    proxy = await new WorkspacesProxy({
      dnsZone: "workspaces.localtest",
      auth: new GitLabUserAuth(gl.url),
      upstreams: {
        exists: (workspace) => upstreams.exists(workspace),
        connect: (workspace, port) => {
          dials++;
          return upstreams.connect(workspace, port);
        },
      },
    }).start();
    gl.sim.remoteDevelopment.options.workspacesProxy = { scheme: "http", port: proxy.port };
    agentk = await new Agentk({ gitlabUrl: gl.url, token: gl.agentToken, kc: k8s.kc }).start();
    await gl.graphql(
      `mutation($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) { namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          namespaceId: "gid://gitlab/Namespace/1",
        },
      },
    );
    const created = await gl.graphql(
      `mutation($input: WorkspaceCreateInput!) { workspaceCreate(input: $input) { errors workspace { id name url } } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          projectId: `gid://gitlab/Project/${gl.projectId}`,
          desiredState: "Running",
          projectRef: "main",
          devfilePath: ".devfile.yaml",
        },
      },
    );
    ({ name, url } = created.body.data.workspaceCreate.workspace);
    const deadline = Date.now() + 40_000;
    for (;;) {
      const r = await gl.graphql(`{ currentUser { workspaces { nodes { actualState } } } }`);
      if (r.body.data.currentUser.workspaces.nodes[0].actualState === "Running") break;
      if (Date.now() > deadline) throw new Error("the workspace did not reach Running");
      await new Promise((r) => setTimeout(r, 300));
    }
  }, 60_000);

  afterAll(async () => {
    await agentk?.stop();
    await proxy?.stop();
    await k8s?.stop();
    await gl?.sim.stop();
  });

  it("is where the workspace's url points", () => {
    expect(url).toBe(
      `http://60001-${name}.workspaces.localtest:${proxy.port}/?folder=%2Fprojects%2Fworkspaces`,
    );
  });

  it("lets in only a token GitLab vouches for, for that user's own workspace", async () => {
    const healthz = `http://60001-${name}.workspaces.localtest:${proxy.port}/healthz`;
    expect(await curl(...resolve(), healthz)).toMatch(/^HTTP\/1\.1 401[\s\S]*sign in/);
    expect(await curl(...resolve(), "-H", "Authorization: Bearer glpat-made-up", healthz)).toMatch(
      /^HTTP\/1\.1 403[\s\S]*GitLab does not know this token/,
    );
    const other = gl.sim.store.createUser("someone");
    const otherToken = gl.sim.store.createToken(other.id);
    expect(await curl(...resolve(), "-H", `Authorization: Bearer ${otherToken}`, healthz)).toMatch(
      new RegExp(`^HTTP/1\\.1 403[\\s\\S]*workspace ${name} is not one of someone's`),
    );
    const ok = await curl(...resolve(), "-H", `Authorization: Bearer ${gl.token}`, healthz);
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
    const cookie = /set-cookie: (gitlab-workspaces-proxy-session=[^;]+)/i.exec(ok)?.[1];
    expect(cookie).toBeDefined();
    expect(await curl(...resolve(), "-H", `Cookie: ${cookie}`, healthz)).toMatch(/^HTTP\/1\.1 200/);
    expect(
      await curl(
        "--resolve",
        `60001-nope.workspaces.localtest:${proxy.port}:127.0.0.1`,
        "-H",
        `Authorization: Bearer ${gl.token}`,
        `http://60001-nope.workspaces.localtest:${proxy.port}/`,
      ),
    ).toMatch(/^HTTP\/1\.1 403/);
    expect(await curl(`http://127.0.0.1:${proxy.port}/`)).toMatch(
      /^HTTP\/1\.1 400[\s\S]*could not find upstream workspace/,
    );
  }, 30_000);

  it("keeps its connections into the pod alive across requests, as a reverse proxy does", async () => {
    const zone = zoneResolution("workspaces.localtest", "127.0.0.1");
    const healthz = `http://60001-${name}.workspaces.localtest:${proxy.port}/healthz`;
    const before = dials;
    for (let i = 0; i < 20; i++) {
      const res = await fetch(healthz, {
        headers: { authorization: `Bearer ${gl.token}` },
        dispatcher: zone.dispatcher,
      } as RequestInit);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(dials - before).toBeLessThanOrEqual(2);
  }, 20_000);

  it("carries raw TCP through CONNECT", async () => {
    const socket = connect(proxy.port, "127.0.0.1");
    socket.write(
      `CONNECT 60001-${name}.workspaces.localtest:443 HTTP/1.1\r\nHost: 60001-${name}.workspaces.localtest:443\r\nProxy-Authorization: Bearer ${gl.token}\r\n\r\n`,
    );
    let seen = "";
    socket.on("data", (b: Buffer) => {
      seen += b.toString();
      if (seen.startsWith("HTTP/1.1 200 Connection Established\r\n\r\n") && !seen.includes("healthz-sent")) {
        socket.write("GET /healthz HTTP/1.1\r\nHost: workspace\r\nConnection: close\r\n\r\n");
        seen += "healthz-sent";
      }
    });
    await new Promise((r) => socket.once("close", r));
    expect(seen).toMatch(/HTTP\/1\.1 200 Connection Established[\s\S]*healthz-sent[\s\S]*HTTP\/1\.1 200/);
  }, 20_000);

  it("carries a WebSocket (the editor's terminal) to the workspace", async () => {
    const socket = new WebSocket(`ws://60001-${name}.workspaces.localtest:${proxy.port}/terminal`, {
      headers: { authorization: `Bearer ${gl.token}` },
      // No DNS server knows the zone here: its names resolve to the proxy, as the zone's wildcard record would.
      lookup: zoneResolution("workspaces.localtest", "127.0.0.1").lookup,
      handshakeTimeout: 10_000,
    });
    try {
      await new Promise((resolve, reject) => {
        socket.once("open", resolve);
        socket.once("error", reject);
      });
      const reply = await new Promise<string>((resolve) => {
        socket.once("message", (d) => resolve(d.toString()));
        socket.send("echo through-the-proxy");
      });
      expect(reply).toContain("through-the-proxy");
    } finally {
      socket.terminate();
    }
  }, 20_000);
});
