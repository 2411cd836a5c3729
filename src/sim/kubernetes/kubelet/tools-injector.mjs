// Stands in for GitLab's workspace tools image in the process kubelet: copies the simulated editor to
// ${GL_TOOLS_DIR}/vscode-reh-web/bin/gitlab-webide-server, where GitLab's start script looks for it.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const toolsDir = process.env.GL_TOOLS_DIR;
if (!toolsDir) {
  console.error("GL_TOOLS_DIR is not set");
  process.exit(1);
}
const bin = join(toolsDir, "vscode-reh-web", "bin");
mkdirSync(bin, { recursive: true });
const target = join(bin, "gitlab-webide-server");
copyFileSync(join(dirname(fileURLToPath(import.meta.url)), "editor-server.mjs"), target);
chmodSync(target, 0o755);
writeFileSync(
  join(toolsDir, "vscode-reh-web", "product.json"),
  `${JSON.stringify({ nameShort: "wsparity-sim-editor" })}\n`,
);
console.log(`${new Date().toISOString()}: tools copied to ${toolsDir}`);
