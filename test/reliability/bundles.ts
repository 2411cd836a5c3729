import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { bundleAgent } from "../../src/agent/bundle.ts";

export interface Bundles {
  /** Takes the arguments of `wsparity` (its `tunnel` commands only). */
  tunnel: string;
  /** The agent CI jobs run (dist/wsparity-agent.mjs's build). */
  agent: string;
  /** Deletes both files and their folder. */
  remove(): void;
}

/** Builds the tunnel server and the agent into single files in a fresh temporary folder. */
export async function buildBundles(): Promise<Bundles> {
  const folder = mkdtempSync(join(tmpdir(), "wsparity-reliability-bundles-"));
  const tunnel = join(folder, "tunnel.mjs");
  await build({
    entryPoints: [resolve(import.meta.dirname, "tunnel-main.ts")],
    outfile: tunnel,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["bufferutil", "utf-8-validate"],
    banner: {
      js: "import{createRequire as __wsparityRequire}from'node:module';const require=__wsparityRequire(import.meta.url);",
    },
    logLevel: "silent",
  });
  return {
    tunnel,
    agent: await bundleAgent(join(folder, "agent.mjs")),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
