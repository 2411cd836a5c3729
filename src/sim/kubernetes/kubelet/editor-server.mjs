#!/usr/bin/env node
// The editor the simulator's tools injector installs as gitlab-webide-server: a small real HTTP server that
// stands in for the VS Code server (the real one is in the tools image, which the process kubelet cannot run).
// It takes the same flags the GitLab start script passes.
import { createServer } from "node:http";
import { hostname } from "node:os";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const host = flag("host", "0.0.0.0");
const port = Number(flag("port", "60001"));
const started = new Date().toISOString();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://editor");
  if (url.pathname === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "ok", started }));
    return;
  }
  if (url.pathname === "/info") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        editor: "wsparity-sim-editor",
        uid: process.getuid?.(),
        cwd: process.cwd(),
        hostname: hostname(),
        projectSource: process.env.PROJECT_SOURCE ?? null,
        started,
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><title>Workspace editor</title><h1>wsparity simulated editor</h1><p>port ${port}, started ${started}</p>\n`,
  );
});
server.listen(port, host, () =>
  console.log(`${new Date().toISOString()}: editor listening on ${host}:${port}`),
);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
