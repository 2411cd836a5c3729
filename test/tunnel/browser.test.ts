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

  for (const form of ["host", "path"] as const) {
    it(`signs in with ?wsparity_token=, loads the page and its WebSocket (${form} form)`, async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const base =
          form === "host"
            ? `http://${app.port}-${ws.name}.localtest:${server.userPort}/app`
            : `${server.userUrl}/-/ws/${ws.name}/${app.port}/app`;
        const response = await page.goto(`${base}?wsparity_token=${ws.userToken}`);
        expect(response?.status()).toBe(200);
        expect(page.url()).toBe(base);
        await page.waitForFunction(
          () => document.getElementById("status")?.textContent?.startsWith("echo"),
          undefined,
          {
            timeout: 30_000,
          },
        );
        expect(await page.textContent("#status")).toBe("echo: ping from the browser");
        const cookies = await context.cookies();
        expect(cookies.find((c) => c.name === "wsparity_token")?.httpOnly).toBe(true);
      } finally {
        await context.close();
      }
    }, 60_000);
  }

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
