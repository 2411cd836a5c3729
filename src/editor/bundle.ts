import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { distDir } from "../util/dist-dir.ts";

export const EDITOR_BUNDLE = join(distDir(), "wsparity-editor.mjs");

/** One ESM file that a plain `node` (18+) runs with no node_modules: what images and CI jobs get injected. */
export async function buildEditorBundle(outfile = EDITOR_BUNDLE): Promise<string> {
  await mkdir(dirname(outfile), { recursive: true });
  // Built beside the target and renamed over it: concurrent builds and readers never see half a file.
  const partial = `${outfile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await build({
    entryPoints: [fileURLToPath(new URL("./main.ts", import.meta.url))],
    outfile: partial,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    logLevel: "warning",
    // ws loads optional native helpers with require(); give the ESM bundle a require that works.
    banner: {
      js: "import{createRequire as __wsparityRequire}from'node:module';const require=__wsparityRequire(import.meta.url);",
    },
  });
  await rename(partial, outfile);
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${await buildEditorBundle(process.argv[2])}\n`);
}
