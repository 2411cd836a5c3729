// The tools a shell-executor runner host offers jobs (what the tools service brings on container
// executors): the workspace agent and the editor as single-file bundles, and a `ready` marker.

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BUNDLE, bundleAgent } from "../agent/bundle.ts";
import { buildEditorBundle, EDITOR_BUNDLE } from "../editor/bundle.ts";

export async function prepareShellTools(
  dir: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  if (!existsSync(AGENT_BUNDLE)) {
    log(`building ${AGENT_BUNDLE}`);
    await bundleAgent();
  }
  if (!existsSync(EDITOR_BUNDLE)) {
    log(`building ${EDITOR_BUNDLE}`);
    await buildEditorBundle();
  }
  mkdirSync(dir, { recursive: true });
  copyFileSync(AGENT_BUNDLE, join(dir, "wsparity-agent.mjs"));
  copyFileSync(EDITOR_BUNDLE, join(dir, "wsparity-editor.mjs"));
  writeFileSync(join(dir, "ready"), `${new Date().toISOString()}\n`);
  return dir;
}
