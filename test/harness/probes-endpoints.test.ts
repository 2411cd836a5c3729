import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { editorInjected } from "../../src/harness/probes/editor-injected.ts";
import { endpointHttp } from "../../src/harness/probes/endpoint-http.ts";
import { endpointInternal } from "../../src/harness/probes/endpoint-internal.ts";
import { endpointTcp } from "../../src/harness/probes/endpoint-tcp.ts";
import { endpointWebsocket } from "../../src/harness/probes/endpoint-websocket.ts";
import { EDITOR_PORT, SSH_PORT } from "../../src/kubernetes/settings.ts";
import { freePort, localFixtures } from "./local-workspace.ts";
import { container, context, endpoint, spec } from "./spec-builder.ts";

const { workspace, cleanup, server } = localFixtures(afterEach);

describe("editor.injected", () => {
  it("is supported when the editor page answers, unsupported when the URL does not reach it", async () => {
    const ws = await workspace();
    expect((await editorInjected.run(context(ws, spec()))).status).toBe("supported");
    const broken = await workspace({ route: { [EDITOR_PORT]: (await server(503, "agent offline")).port } });
    const r = await editorInjected.run(context(broken, spec()));
    expect(r).toMatchObject({ status: "unsupported" });
    expect(r.evidence).toContain("503: agent offline");
  });
});

describe("endpoint.http", () => {
  it("starts a server in the workspace and reaches it through the URL; a URL to elsewhere is unsupported", async () => {
    const port = await freePort();
    const s = spec({
      containers: [container("tooling", { main: true, endpoints: [endpoint("web", port)] })],
    });
    const ws = await workspace();
    const ok = await endpointHttp.run(context(ws, s));
    expect(ok.status).toBe("supported");
    expect(ok.evidence).toMatch(/→ 200 with its token/);
    const broken = await workspace({ route: { [port]: (await server(200, "someone else")).port } });
    expect((await endpointHttp.run(context(broken, s))).status).toBe("unsupported");
  });

  it("is not applicable without a public http endpoint", () => {
    expect(endpointHttp.notApplicable!(context({} as never, spec()))).toMatch(/no public http/);
  });
});

describe("endpoint.internal", () => {
  it("is supported when the proxy refuses the internal port, unsupported when it leaks through", async () => {
    const port = await freePort();
    const s = spec({
      containers: [container("tooling", { main: true, endpoints: [endpoint("debug", port, "internal")] })],
    });
    const refusing = await workspace({ route: { [port]: (await server(403, "not an endpoint")).port } });
    const ok = await endpointInternal.run(context(refusing, s));
    expect(ok).toMatchObject({ status: "supported" });
    expect(ok.evidence).toContain("→ 403 (refused)");
    const leaking = await workspace();
    const bad = await endpointInternal.run(context(leaking, s));
    expect(bad.status).toBe("unsupported");
    expect(bad.evidence).toContain("reached the internal server");
  });
});

describe("endpoint.websocket", () => {
  it("round-trips through the editor's WebSocket, and fails where the URL refuses upgrades", async () => {
    const ws = await workspace();
    expect((await endpointWebsocket.run(context(ws, spec()))).status).toBe("supported");
    const broken = await workspace({ route: { [EDITOR_PORT]: (await server(200, "plain http only")).port } });
    const r = await endpointWebsocket.run(context(broken, spec()));
    expect(r.status).toBe("unsupported");
  });
});

describe("endpoint.tcp", () => {
  async function banner(text: string) {
    const s = createServer((socket) => socket.end(text));
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise((r) => s.close(r)));
    return (s.address() as { port: number }).port;
  }

  it("wants an SSH banner on 60022 through the user surface", async () => {
    const ssh = await workspace({
      tcpRoute: { [SSH_PORT]: await banner("SSH-2.0-OpenSSH_9.2p1 Debian\r\n") },
    });
    expect(await endpointTcp.run(context(ssh, spec()))).toMatchObject({
      status: "supported",
      evidence: expect.stringContaining("SSH-2.0-OpenSSH_9.2p1"),
    });
    // An image with an sshd (a stand-in on PATH) whose port does not greet: unsupported.
    const bin = await mkdtemp(join(tmpdir(), "wsparity-sshd-"));
    await writeFile(join(bin, "sshd"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const withSshd = { PATH: `${bin}:/usr/bin:/bin` };
    const http = await workspace({
      env: withSshd,
      tcpRoute: { [SSH_PORT]: await banner("HTTP/1.1 400 Bad Request\r\n\r\n") },
    });
    expect((await endpointTcp.run(context(http, spec()))).status).toBe("unsupported");
    const nothing = await workspace({ env: withSshd, tcpRoute: { [SSH_PORT]: await freePort() } });
    expect(await endpointTcp.run(context(nothing, spec()))).toMatchObject({
      status: "unsupported",
      evidence: expect.stringMatching(new RegExp(`sshd is at ${bin}/sshd; sshd -t: passes`)),
    });
  });

  it("is inconclusive when the image has no sshd: GitLab offers no SSH then either", async (ctx) => {
    if (existsSync("/usr/bin/sshd") || existsSync("/bin/sshd"))
      ctx.skip("this host has sshd in /usr/bin, so a local workspace without sshd cannot be made here");
    const noSshd = await workspace({
      env: { PATH: "/usr/bin:/bin" },
      tcpRoute: { [SSH_PORT]: await freePort() },
    });
    expect(await endpointTcp.run(context(noSshd, spec()))).toMatchObject({
      status: "inconclusive",
      reason: expect.stringContaining("has no sshd"),
    });
  });
});
