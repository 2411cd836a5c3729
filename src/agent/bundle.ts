import { rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { distDir } from "../util/dist-dir.ts";

export const AGENT_BUNDLE = join(distDir(), "wsparity-agent.mjs");

/**
 * Bundles the agent into one ESM file that a plain `node` (20+) runs with no node_modules beside it, for
 * injection into CI jobs and containers together with a node binary.
 */
export async function bundleAgent(outfile = AGENT_BUNDLE): Promise<string> {
  // Built beside the target and renamed over it: concurrent builds and readers never see half a file.
  const partial = `${outfile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await build({
    entryPoints: [fileURLToPath(new URL("./main.ts", import.meta.url))],
    outfile: partial,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    legalComments: "eof",
    // ws loads these optional native add-ons inside try/catch; without them it uses its JS code.
    external: ["bufferutil", "utf-8-validate"],
    // CommonJS dependencies (ws) call require() for node built-ins, which an ESM bundle does not have.
    banner: {
      js: "import{createRequire as __wsparityRequire}from'node:module';const require=__wsparityRequire(import.meta.url);",
    },
    logLevel: "silent",
  });
  await rename(partial, outfile);
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await bundleAgent(process.argv[2] ? resolve(process.argv[2]) : AGENT_BUNDLE);
  process.stdout.write(`${out}\n`);
}
