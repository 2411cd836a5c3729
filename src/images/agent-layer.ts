import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { buildEditorBundle } from "../editor/bundle.ts";
import { cachedLayer, type LayerFile, sha256OfFile } from "./cache.ts";
import { AGENT_BUNDLE } from "./definitions.ts";
import { REPRODUCIBLE_TAR } from "./node-layer.ts";
import { run } from "./processes.ts";

export type AgentBundle =
  | { state: "built"; path: string; sha256: string; editor: { path: string; sha256: string } }
  | { state: "absent"; reason: string };

/** The injected editor rides with the agent: the tools service hands both to the job. */
export const EDITOR_IN_IMAGE = "/opt/wsparity/wsparity-editor.mjs";

/** Runs `npm run build:agent` in the project when package.json has that script, and finds its output. */
export async function buildAgentBundle(
  projectDir: string,
  progress: (line: string) => void,
): Promise<AgentBundle> {
  const manifest = JSON.parse(await readFile(join(projectDir, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  if (!manifest.scripts?.[AGENT_BUNDLE.npmScript]) {
    return { state: "absent", reason: `package.json has no "${AGENT_BUNDLE.npmScript}" script` };
  }
  progress(`npm run ${AGENT_BUNDLE.npmScript}`);
  await run("npm", ["run", "--silent", AGENT_BUNDLE.npmScript], { cwd: projectDir });
  const path = join(projectDir, AGENT_BUNDLE.output);
  if (!existsSync(path)) {
    throw new Error(`npm run ${AGENT_BUNDLE.npmScript} succeeded but wrote no ${AGENT_BUNDLE.output}`);
  }
  progress("bundling the injected editor");
  const editor = await buildEditorBundle(join(projectDir, "dist/wsparity-editor.mjs"));
  return {
    state: "built",
    path,
    sha256: await sha256OfFile(path),
    editor: { path: editor, sha256: await sha256OfFile(editor) },
  };
}

export function agentLayerKey(bundle: { sha256: string; editor: { sha256: string } }): string {
  return `agent-${bundle.sha256.slice(0, 16)}-editor-${bundle.editor.sha256.slice(0, 16)}`;
}

/** The agent and editor bundles at /opt/wsparity, as one layer: the same files for every architecture. */
export async function agentLayer(
  bundle: { path: string; sha256: string; editor: { path: string; sha256: string } },
  cacheDir: string,
): Promise<LayerFile> {
  const key = agentLayerKey(bundle);
  return cachedLayer(cacheDir, key, async (partialTar) => {
    const staging = join(cacheDir, "staging", key);
    await rm(staging, { recursive: true, force: true });
    const target = join(staging, AGENT_BUNDLE.pathInImage);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(bundle.path, target);
    await copyFile(bundle.editor.path, join(staging, EDITOR_IN_IMAGE));
    await run("tar", [...REPRODUCIBLE_TAR, "--mode=a+rX", "-C", staging, "-cf", partialTar, "."]);
    await rm(staging, { recursive: true, force: true });
  });
}
