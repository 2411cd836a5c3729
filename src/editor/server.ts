import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { arch, hostname, userInfo } from "node:os";
import { WebSocketServer } from "ws";
import { type ExecRequest, execCommand } from "./exec.ts";
import { EDITOR_PAGE } from "./page.ts";

export interface EditorOptions {
  host: string;
  port: number;
  /** Where the editor opens, like VS Code's folder argument. */
  workspaceDir: string;
  log: (line: string) => void;
}

const MAX_BODY = 1024 * 1024;
const STARTED_AT = new Date().toISOString();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const BLOB_CHUNK = Buffer.alloc(256 * 1024, 0x61);
const MAX_BLOB = 16 * 1024 ** 3;

/** Streams `bytes` bytes with backpressure: the download side of the tunnel measurements. */
function sendBlob(res: ServerResponse, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_BLOB) {
    json(res, 400, { error: `bytes must be an integer from 0 to ${MAX_BLOB}` });
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, BLOB_CHUNK.length);
      left -= n;
      if (!res.write(n === BLOB_CHUNK.length ? BLOB_CHUNK : BLOB_CHUNK.subarray(0, n))) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function parseExec(text: string): ExecRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body must be JSON: {"command": ["argv"] or "shell line", "cwd"?, "env"?, "timeoutMs"?, "stdin"?}';
  }
  const b = body as Record<string, unknown>;
  const okCommand =
    typeof b.command === "string" ||
    (Array.isArray(b.command) && b.command.every((a) => typeof a === "string"));
  if (!okCommand) return "command must be a string or an array of strings";
  if (b.cwd !== undefined && typeof b.cwd !== "string") return "cwd must be a string";
  if (b.timeoutMs !== undefined && (typeof b.timeoutMs !== "number" || b.timeoutMs <= 0))
    return "timeoutMs must be a positive number";
  if (b.stdin !== undefined && typeof b.stdin !== "string") return "stdin must be a string";
  if (
    b.env !== undefined &&
    (typeof b.env !== "object" || b.env === null || Object.values(b.env).some((v) => typeof v !== "string"))
  )
    return "env must be an object of strings";
  return b as unknown as ExecRequest;
}

/** The process's user; a uid with no passwd entry (a pod's runAsUser) still has its ids. */
function currentUser(): { uid: number; gid: number; username: string | null } {
  try {
    const user = userInfo();
    return { uid: user.uid, gid: user.gid, username: user.username };
  } catch {
    return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, username: null };
  }
}

function info(options: EditorOptions) {
  const user = currentUser();
  return {
    editor: "wsparity-editor",
    pid: process.pid,
    hostname: hostname(),
    arch: arch(),
    uid: user.uid,
    gid: user.gid,
    user: user.username,
    cwd: process.cwd(),
    workspaceDir: options.workspaceDir,
    env: process.env,
    startedAt: STARTED_AT,
  };
}

/**
 * The injected editor: a small stand-in for GitLab's VS Code server that gives a person (or a probe)
 * the same powers — a page, a terminal over WebSocket, and running commands in the workspace — on
 * one port. It has no authentication of its own; like the real editor, it relies on the workspace
 * proxy or tunnel in front of it.
 */
export function startEditor(options: EditorOptions): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://editor");
    try {
      if (req.method === "GET" && url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(EDITOR_PAGE);
      } else if (req.method === "GET" && url.pathname === "/healthz") {
        json(res, 200, { ok: true });
      } else if (req.method === "GET" && url.pathname === "/api/info") {
        json(res, 200, info(options));
      } else if (req.method === "GET" && url.pathname === "/api/blob") {
        sendBlob(res, Number(url.searchParams.get("bytes") ?? "0"));
      } else if (req.method === "POST" && url.pathname === "/api/sink") {
        let received = 0;
        req.on("data", (c: Buffer) => {
          received += c.length;
        });
        req.on("end", () => json(res, 200, { received }));
      } else if (req.method === "POST" && url.pathname === "/api/exec") {
        const parsed = parseExec(await readBody(req));
        if (typeof parsed === "string") json(res, 400, { error: parsed });
        else {
          const result = await execCommand({ cwd: options.workspaceDir, ...parsed });
          options.log(
            `exec ${JSON.stringify(parsed.command).slice(0, 200)} → ${result.exitCode ?? result.signal}`,
          );
          json(res, 200, result);
        }
      } else
        json(res, 404, {
          error: `no ${req.method} ${url.pathname}: try /, /healthz, /api/info, /api/blob?bytes=N, POST /api/sink, POST /api/exec, WS /terminal`,
        });
    } catch (err) {
      json(res, 500, { error: (err as Error).message });
    }
  });
  const terminals = new WebSocketServer({ server, path: "/terminal", maxPayload: MAX_BODY });
  terminals.on("connection", (socket) => {
    socket.on("message", async (data) => {
      const line = data.toString();
      const result = await execCommand({ command: line, cwd: options.workspaceDir });
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ command: line, ...result }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
