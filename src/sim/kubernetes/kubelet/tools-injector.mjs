// Stands in for GitLab's workspace tools image in the process kubelet: installs wsparity's injected editor
// (the same bundle the CI path injects) as ${GL_TOOLS_DIR}/vscode-reh-web/bin/gitlab-webide-server, where
// GitLab's start script looks for it, behind a wrapper that takes the script's flags.
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const toolsDir = process.env.GL_TOOLS_DIR;
if (!toolsDir) {
  console.error("GL_TOOLS_DIR is not set");
  process.exit(1);
}
const bundle = join(dirname(fileURLToPath(import.meta.url)), "../../../../dist/wsparity-editor.mjs");
if (!existsSync(bundle)) {
  console.error(`no editor bundle at ${bundle}: run npm run build:editor`);
  process.exit(1);
}
const editorDir = join(toolsDir, "vscode-reh-web");
const bin = join(editorDir, "bin");
mkdirSync(bin, { recursive: true });
copyFileSync(bundle, join(editorDir, "wsparity-editor.mjs"));
const target = join(bin, "gitlab-webide-server");
writeFileSync(target, '#!/bin/sh\nexec node "$(dirname "$0")/../wsparity-editor.mjs" "$@"\n');
chmodSync(target, 0o755);
writeFileSync(join(editorDir, "product.json"), `${JSON.stringify({ nameShort: "wsparity-editor" })}\n`);
console.log(`${new Date().toISOString()}: tools copied to ${toolsDir}`);
