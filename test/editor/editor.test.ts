import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildEditorBundle } from "../../src/editor/bundle.ts";

let dir: string;
let child: ChildProcess;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsparity-editor-"));
  const bundle = await buildEditorBundle(join(dir, "editor.mjs"));
  // Plain node, no tsx and no node_modules next to the bundle: how a workspace runs it.
  child = spawn(process.execPath, [bundle, "--host", "127.0.0.1", "--port", "0", "--log", "info", dir], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH ?? "", MARKER: "from-env" },
  });
  base = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stderr!.on("data", (c: Buffer) => {
      text += c.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on("exit", (code) => reject(new Error(`editor exited ${code}: ${text}`)));
  });
});

afterAll(async () => {
  child?.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
});

const exec = async (body: unknown) => {
  const res = await fetch(`${base}/api/exec`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("the injected editor (bundled, under plain node)", () => {
  it("serves its page and reports who and where it runs", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("wsparity editor");
    const info = (await (await fetch(`${base}/api/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ editor: "wsparity-editor", workspaceDir: dir, uid: process.getuid!() });
    expect((info.env as Record<string, string>).MARKER).toBe("from-env");
  });

  it("runs commands in the workspace folder, with exit codes, stdin, env and timeouts", async () => {
    const pwd = await exec({ command: ["pwd"] });
    expect(pwd).toMatchObject({ status: 200, body: { exitCode: 0, stdout: `${dir}\n` } });
    expect((await exec({ command: "echo $X >&2; exit 3", env: { X: "y" } })).body).toMatchObject({
      exitCode: 3,
      stderr: "y\n",
    });
    expect((await exec({ command: ["cat"], stdin: "hello" })).body).toMatchObject({ stdout: "hello" });
    expect((await exec({ command: ["sleep", "5"], timeoutMs: 200 })).body).toMatchObject({
      timedOut: true,
      signal: "SIGKILL",
    });
    expect((await exec({ command: ["/no/such/binary"] })).body).toMatchObject({ exitCode: 127 });
  });

  it("answers bad requests with 400 and a hint, unknown paths with 404", async () => {
    expect(await exec({ command: 42 })).toMatchObject({
      status: 400,
      body: { error: "command must be a string or an array of strings" },
    });
    const bad = await fetch(`${base}/api/exec`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("runs terminal lines over the /terminal WebSocket", async () => {
    const socket = new WebSocket(`${base.replace("http", "ws")}/terminal`);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const reply = new Promise<Record<string, unknown>>((resolve) =>
      socket.once("message", (d) => resolve(JSON.parse(d.toString()))),
    );
    socket.send("echo terminal-works");
    expect(await reply).toMatchObject({
      command: "echo terminal-works",
      stdout: "terminal-works\n",
      exitCode: 0,
    });
    socket.close();
  });
});

describe("the editor's measurement endpoints", () => {
  it("streams a blob of the asked size and counts an uploaded body", async () => {
    const blob = await fetch(`${base}/api/blob?bytes=1000000`);
    expect((await blob.arrayBuffer()).byteLength).toBe(1_000_000);
    expect((await fetch(`${base}/api/blob?bytes=-1`)).status).toBe(400);
    const sink = await fetch(`${base}/api/sink`, { method: "POST", body: new Uint8Array(300_000) });
    expect(await sink.json()).toEqual({ received: 300_000 });
  });
});
