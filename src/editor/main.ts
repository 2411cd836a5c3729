import { parseArgs } from "node:util";
import { startEditor } from "./server.ts";

// Accepts the flags GitLab's tools-injector script passes to gitlab-webide-server, so the same
// start script runs this editor; flags it has no use for are accepted and ignored.
const { values, positionals } = parseArgs({
  options: {
    host: { type: "string", default: process.env.WSPARITY_EDITOR_HOST ?? "0.0.0.0" },
    port: {
      type: "string",
      default: process.env.GL_VSCODE_PORT ?? process.env.WSPARITY_EDITOR_PORT ?? "60001",
    },
    log: { type: "string" },
    help: { type: "boolean" },
  },
  allowPositionals: true,
  strict: false,
});

if (values.help) {
  process.stdout.write(
    "wsparity editor [--host 0.0.0.0] [--port 60001] [FOLDER]\n  GET / page with a terminal; WS /terminal; GET /api/info; POST /api/exec {command, cwd?, env?, timeoutMs?}\n",
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`wsparity editor: --port must be 0-65535, got ${String(values.port)}\n`);
  process.exit(2);
}
const workspaceDir =
  positionals.find((p) => !p.startsWith("-")) ??
  process.env.GL_PROJECTS_DIR ??
  process.env.CI_PROJECT_DIR ??
  process.cwd();
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} editor ${line}\n`);

const server = await startEditor({ host: String(values.host), port, workspaceDir, log });
const address = server.address();
log(
  `listening on ${typeof address === "object" && address ? `${address.address}:${address.port}` : String(address)}, folder ${workspaceDir}`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: closing`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
