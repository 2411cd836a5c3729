// An HTTP proxy in front of the GitLab simulator, as NGINX and Workhorse stand in front of Rails, for tests
// that need to see or change what the runner receives. Like them, it ends its upstream request when the
// client hangs up: a long poll kept open for a runner that is gone would be handed a job nobody runs.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitLabProxy {
  url: string;
  stop(): Promise<void>;
}

/** `rewrite` may change a 201 answer to POST /jobs/request (the job payload); everything else passes through. */
export async function startGitLabProxy(
  upstreamUrl: string,
  rewrite: (payload: Record<string, unknown>) => string = JSON.stringify,
): Promise<GitLabProxy> {
  const server: Server = createServer((req, res) => void forward(req, res).catch(() => res.destroy()));
  async function forward(req: IncomingMessage, res: ServerResponse) {
    const hungUp = new AbortController();
    res.on("close", () => hungUp.abort());
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const upstream = await fetch(`${upstreamUrl}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !["host", "connection", "content-length"].includes(k)),
      ) as Record<string, string>,
      body: body.length ? body : undefined,
      signal: hungUp.signal,
    });
    let answer = Buffer.from(await upstream.arrayBuffer());
    if (req.url?.endsWith("/jobs/request") && upstream.status === 201)
      answer = Buffer.from(rewrite(JSON.parse(answer.toString("utf8"))));
    const headers = Object.fromEntries(
      [...upstream.headers].filter(
        ([k]) => !["content-length", "content-encoding", "transfer-encoding"].includes(k),
      ),
    );
    res.writeHead(upstream.status, headers);
    res.end(answer);
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
