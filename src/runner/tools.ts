// The tools a shell-executor runner host offers jobs (what the tools service brings on container
// executors): the workspace agent and the editor as single-file bundles, and a `ready` marker. Bundled from
// the current sources every time, so a runner never hands jobs an agent older than its own code.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundleAgent } from "../agent/bundle.ts";
import { buildEditorBundle } from "../editor/bundle.ts";

export async function prepareShellTools(
  dir: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  log(`bundling the workspace agent and editor into ${dir}`);
  await Promise.all([
    bundleAgent(join(dir, "wsparity-agent.mjs")),
    buildEditorBundle(join(dir, "wsparity-editor.mjs")),
  ]);
  writeFileSync(join(dir, "ready"), `${new Date().toISOString()}\n`);
  return dir;
}
