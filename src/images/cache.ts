import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Outside the repo, so a fresh clone reuses what an earlier run already fetched and built. */
export function defaultCacheDir(): string {
  return process.env.WSPARITY_CACHE_DIR ?? "/var/cache/wsparity";
}

export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function sriOfFile(path: string, algorithm: "sha512" | "sha256"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `${algorithm}-${hash.digest("base64")}`;
}

/** A layer tarball, as Docker's image config names it: the sha256 of the uncompressed tar. */
export interface LayerFile {
  path: string;
  diffId: string;
}

/**
 * A layer built once per input key. The tar is written under a `.partial` name and renamed when whole, and
 * its diff id is written last: a layer counts as cached only when both are there, so an interrupted
 * build is simply redone.
 */
export function cachedLayer(
  cacheDir: string,
  key: string,
  make: (partialTarPath: string) => Promise<void>,
): Promise<LayerFile> {
  // Two images building at once may need the same layer (the agent's is the same for every architecture).
  const id = join(cacheDir, key);
  let layer = inFlight.get(id);
  if (!layer) {
    layer = buildLayerOnce(cacheDir, key, make).finally(() => inFlight.delete(id));
    inFlight.set(id, layer);
  }
  return layer;
}

const inFlight = new Map<string, Promise<LayerFile>>();

async function buildLayerOnce(
  cacheDir: string,
  key: string,
  make: (partialTarPath: string) => Promise<void>,
): Promise<LayerFile> {
  const dir = join(cacheDir, "layers");
  const path = join(dir, `${key}.tar`);
  const diffIdPath = `${path}.diffid`;
  if (existsSync(path) && existsSync(diffIdPath)) {
    return { path, diffId: (await readFile(diffIdPath, "utf8")).trim() };
  }
  await mkdir(dir, { recursive: true });
  const partial = `${path}.partial`;
  await rm(partial, { force: true });
  await make(partial);
  const diffId = `sha256:${await sha256OfFile(partial)}`;
  await rename(partial, path);
  await writeFile(`${diffIdPath}.partial`, `${diffId}\n`);
  await rename(`${diffIdPath}.partial`, diffIdPath);
  return { path, diffId };
}
