import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import type { StartedTunnelServer } from "../../src/tunnel/index.ts";
import { CODE_TTL_MS, SignInStore } from "../../src/tunnel/sign-in.ts";
import { startAgent, startServer, startTargetApp, type Workspace, workspace } from "./helpers.ts";

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A request to the loopback listener with any Host, as a browser resolving *.localtest there would send. */
function request(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
) {
  return new Promise<Answer>((resolve, reject) => {
    http
      .request(
        { host: "127.0.0.1", port, path, method, headers: { host, ...headers }, agent: false },
        (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (c: string) => {
            body += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        },
      )
      .on("error", reject)
      .end();
  });
}

describe("browser sign-in: one-time codes, host-only sessions (issue 12 defects 8 and 9)", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let server: StartedTunnelServer;
  let a: Workspace;
  let b: Workspace;
  const agents: WorkspaceAgent[] = [];
  const hostOf = (ws: Workspace, port = app.port) => `${port}-${ws.name}.localtest:${server.userPort}`;
  const mint = async (ws: Workspace, token = ws.userToken, port = app.port, path = "/whoami") => {
    const answer = await request(
      server.userPort,
      `127.0.0.1:${server.userPort}`,
      `/-/sign-in-codes?workspace=${ws.name}&port=${port}&path=${encodeURIComponent(path)}`,
      { authorization: `Bearer ${token}` },
      "POST",
    );
    return {
      answer,
      link: answer.status === 201 ? new URL(JSON.parse(answer.body).url as string) : undefined,
    };
  };
  const signIn = async (ws: Workspace, path = "/whoami") => {
    const { link } = await mint(ws, ws.userToken, app.port, path);
    const answer = await request(server.userPort, link!.host, `${link!.pathname}${link!.search}`);
    return { answer, link: link!, cookie: answer.headers["set-cookie"]?.[0]?.split(";")[0] ?? "" };
  };

  beforeAll(async () => {
    app = await startTargetApp({ name: "a" });
    a = workspace("ws-a", [app.port]);
    b = workspace("ws-b", [app.port]);
    server = await startServer([a, b]);
    agents.push(await startAgent(server.agentUrl!, a), await startAgent(server.agentUrl!, b));
  });
  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await server.stop();
    await app.close();
  });

  it("mints a code only for a user token of that workspace", async () => {
    expect((await mint(a, b.userToken)).answer.status).toBe(401);
    expect((await mint(a, a.userToken, 1)).answer.status).toBe(403);
    const { answer, link } = await mint(a);
    expect(answer.status).toBe(201);
    expect(link!.host).toBe(hostOf(a));
    expect(link!.searchParams.get("wsparity_code")).toMatch(/^[\w-]{32}$/);
    expect(link!.href).not.toContain(a.userToken);
  });

  it("exchanges a code once for a host-only session cookie, and redirects to the same path without it", async () => {
    const { answer, link, cookie } = await signIn(a, "/whoami?keep=1");
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe("/whoami?keep=1");
    const setCookie = answer.headers["set-cookie"]![0]!;
    expect(setCookie).toMatch(/^wsparity_session=[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    expect(setCookie).not.toContain(a.userToken);
    expect(await request(server.userPort, hostOf(a), "/whoami", { cookie })).toMatchObject({
      status: 200,
      body: "a",
    });
    const replay = await request(server.userPort, link.host, `${link.pathname}${link.search}`);
    expect(replay.status).toBe(401);
    expect(replay.body).toContain("already used");
  });

  it("refuses the long-lived user token in the query (no replayable sign-in link)", async () => {
    const answer = await request(server.userPort, hostOf(a), `/whoami?wsparity_token=${a.userToken}`);
    expect(answer.status).toBe(401);
    expect(answer.headers["set-cookie"]).toBeUndefined();
  });

  it("a session cookie opens only its own workspace port", async () => {
    const { cookie } = await signIn(a);
    expect((await request(server.userPort, hostOf(b), "/whoami", { cookie })).status).toBe(401);
    expect((await request(server.userPort, hostOf(a, app.port + 1), "/whoami", { cookie })).status).toBe(401);
  });

  it("the path form takes bearer tokens only: no session cookie, no sign-in code", async () => {
    const { cookie } = await signIn(a);
    const base = `/-/ws/${a.name}/${app.port}/whoami`;
    const host = `127.0.0.1:${server.userPort}`;
    const withCookie = await request(server.userPort, host, base, { cookie });
    expect(withCookie.status).toBe(401);
    expect(withCookie.body).toContain("shares one origin between workspaces");
    const { link } = await mint(a);
    const withCode = await request(server.userPort, host, `${base}${link!.search}`);
    expect(withCode.status).toBe(401);
    expect(withCode.headers["set-cookie"]).toBeUndefined();
    expect(
      await request(server.userPort, host, base, { authorization: `Bearer ${a.userToken}` }),
    ).toMatchObject({ status: 200, body: "a" });
  });

  it("never redirects off the workspace's origin", async () => {
    for (const path of ["/.//evil.example/", "//evil.example/", "/\\evil.example/"]) {
      const { link } = await mint(a, a.userToken, app.port, "/");
      const answer = await request(server.userPort, link!.host, `${path}${link!.search}`);
      expect(answer.status, path).toBe(303);
      const location = answer.headers.location!;
      expect(new URL(location, `http://${link!.host}`).host, location).toBe(link!.host);
      expect(location).not.toMatch(/^[/\\]{2}/);
    }
  });

  it("forwards neither the code, the session cookie nor the bearer token to the workspace's app", async () => {
    const { cookie } = await signIn(a);
    const { link } = await mint(a);
    const echoed = await request(
      server.userPort,
      hostOf(a),
      `/echo?wsparity_code=${link!.searchParams.get("wsparity_code")}&keep=1`,
      {
        cookie: `${cookie}; theirs=1`,
      },
    );
    expect(echoed.status).toBe(200);
    const seen = JSON.parse(echoed.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("/echo?keep=1");
    expect(seen.headers.cookie).toBe("theirs=1");

    let upgradeSeen: http.IncomingMessage | undefined;
    const watch = (req: http.IncomingMessage) => {
      upgradeSeen = req;
    };
    app.server.prependListener("upgrade", watch);
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(`ws://${hostOf(a)}/ws?wsparity_code=x&keep=1`, {
          headers: { authorization: `Bearer ${a.userToken}`, cookie: `${cookie}; theirs=1` },
          lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }] as never, 4),
        });
        socket.on("error", reject);
        socket.on("open", () => {
          socket.close();
          resolve();
        });
      });
    } finally {
      app.server.off("upgrade", watch);
    }
    expect(upgradeSeen?.url).toBe("/ws?keep=1");
    expect(upgradeSeen?.headers.cookie).toBe("theirs=1");
    expect(upgradeSeen?.headers.authorization).toBeUndefined();
  });

  it("a WebSocket upgrade cannot sign in with a code", async () => {
    const { link } = await mint(a);
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://${link!.host}/ws${link!.search}`, {
        lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }] as never, 4),
      });
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => {
        socket.close();
        resolve(101);
      });
      socket.on("error", () => {});
    });
    expect(status).toBe(401);
  });
});

describe("SignInStore", () => {
  it("codes expire after a minute and die at their first use, right or wrong", () => {
    let now = 1_000_000;
    const store = new SignInStore(() => now);
    const address = { workspace: "ws-a", port: 8080 };
    const early = store.mint(address, "t");
    expect(store.redeem(early.code, { workspace: "ws-b", port: 8080 })).toBeUndefined();
    expect(store.redeem(early.code, address)).toBeUndefined();
    const late = store.mint(address, "t");
    now += CODE_TTL_MS;
    expect(store.redeem(late.code, address)).toBeUndefined();
    const fresh = store.mint(address, "t");
    expect(store.redeem(fresh.code, address)).toMatchObject({ ...address, token: "t" });
    expect(store.size.codes).toBe(0);
  });
});
