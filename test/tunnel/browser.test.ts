import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { WorkspaceAgent } from "../../src/agent/index.ts";
import type { StartedTunnelServer } from "../../src/tunnel/index.ts";
import { CHROMIUM, launchChromium } from "../support/chromium.ts";
import { describeUnless } from "../support/skip.ts";
import { missingTool } from "../support/tools.ts";
import { startAgent, startServer, startTargetApp, type Workspace, workspace } from "./helpers.ts";

const noChromium = missingTool(CHROMIUM, "apt-get install -y chromium (scripts/install-test-tools.sh)");

describeUnless(noChromium)("headless Chromium through the tunnel", () => {
  let app: Awaited<ReturnType<typeof startTargetApp>>;
  let server: StartedTunnelServer;
  let agent: WorkspaceAgent;
  let ws: Workspace;
  let browser: Browser;

  beforeAll(async () => {
    app = await startTargetApp();
    ws = workspace("ws-browser", [app.port]);
    server = await startServer([ws]);
    agent = await startAgent(server.agentUrl!, ws);
    ({ browser } = await launchChromium(["--host-resolver-rules=MAP *.localtest 127.0.0.1"]));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await server?.stop();
    await app?.close();
  });

  const waitForEcho = async (page: import("playwright-core").Page) => {
    await page.waitForFunction(
      () => document.getElementById("status")?.textContent?.startsWith("echo"),
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent("#status")).toBe("echo: ping from the browser");
  };

  it("host form: signs in with a one-time link, loads the page and its WebSocket on a host-only cookie", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const base = `http://${app.port}-${ws.name}.localtest:${server.userPort}/app`;
      const response = await page.goto(server.signInUrl(ws.name, app.port, ws.userToken, "/app"));
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(base);
      await waitForEcho(page);
      const cookies = await context.cookies();
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({
        name: "wsparity_session",
        domain: `${app.port}-${ws.name}.localtest`,
        path: "/",
        httpOnly: true,
      });
      expect(cookies[0]!.value).not.toContain(ws.userToken);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("path form: a browser needs a bearer token; a sign-in link there gets 401 and no cookie", async () => {
    const base = `${server.userUrl}/-/ws/${ws.name}/${app.port}/app`;
    const refused = await browser.newContext();
    try {
      const page = await refused.newPage();
      const code = new URL(server.signInUrl(ws.name, app.port, ws.userToken)).search;
      expect((await page.goto(`${base}${code}`))?.status()).toBe(401);
      expect(await refused.cookies()).toEqual([]);
    } finally {
      await refused.close();
    }
    const bearer = await browser.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${ws.userToken}` },
    });
    try {
      const page = await bearer.newPage();
      expect((await page.goto(base))?.status()).toBe(200);
      await waitForEcho(page);
    } finally {
      await bearer.close();
    }
  }, 60_000);

  it("without a token the browser gets 401 and no page", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${server.userUrl}/-/ws/${ws.name}/${app.port}/app`);
      expect(response?.status()).toBe(401);
    } finally {
      await context.close();
    }
  }, 60_000);
});
