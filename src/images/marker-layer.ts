import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cachedLayer, hashOf, type LayerFile } from "./cache.ts";
import { RECIPE_VERSION } from "./definitions.ts";
import { REPRODUCIBLE_TAR } from "./node-layer.ts";
import { run } from "./processes.ts";

/** Where every image built here names itself, so a probe inside a container can tell which image runs. */
export const IMAGE_MARKER_PATH = "/etc/wsparity-image";

export function markerLayerKey(tag: string): string {
  return `marker-${hashOf({ recipe: RECIPE_VERSION, tag }).slice(0, 16)}`;
}

/** A one-file layer: IMAGE_MARKER_PATH holding the image's own tag. */
export function markerLayer(tag: string, cacheDir: string): Promise<LayerFile> {
  const key = markerLayerKey(tag);
  return cachedLayer(cacheDir, key, async (partialTar) => {
    const staging = join(cacheDir, "staging", key);
    await rm(staging, { recursive: true, force: true });
    await mkdir(join(staging, "etc"), { recursive: true });
    await writeFile(join(staging, IMAGE_MARKER_PATH), `${tag}\n`, { mode: 0o644 });
    await run("tar", [...REPRODUCIBLE_TAR, "-C", staging, "-cf", partialTar, "."]);
    await rm(staging, { recursive: true, force: true });
  });
}
