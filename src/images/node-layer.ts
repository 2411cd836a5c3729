import { existsSync } from "node:fs";
import { chmod, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Arch } from "./arch.ts";
import { cachedLayer, hashOf, type LayerFile, sriOfFile } from "./cache.ts";
import { NODE_RELEASE, RECIPE_VERSION } from "./definitions.ts";
import { run } from "./processes.ts";

/** Same flags for every small layer, so the same files always give the same diff id. */
export const REPRODUCIBLE_TAR = ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0"];

export function nodeLayerKey(arch: Arch): string {
  const pkg = NODE_RELEASE.packages[arch];
  return `node-${arch}-${hashOf({ recipe: RECIPE_VERSION, version: NODE_RELEASE.version, ...pkg }).slice(0, 16)}`;
}

/**
 * The node package for the architecture, fetched with npm (the binary ships inside a registry package) and
 * checked against the integrity pinned in definitions.ts.
 */
export async function nodePackage(
  arch: Arch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<string> {
  const pkg = NODE_RELEASE.packages[arch];
  const dir = join(cacheDir, "npm");
  const file = join(dir, `${pkg.name}-${NODE_RELEASE.version}.tgz`);
  if (!existsSync(file) || (await sriOfFile(file, "sha512")) !== pkg.integrity) {
    await mkdir(dir, { recursive: true });
    progress(`fetching ${pkg.name}@${NODE_RELEASE.version} from the npm registry`);
    await run("npm", ["pack", `${pkg.name}@${NODE_RELEASE.version}`, "--pack-destination", dir, "--silent"]);
  }
  const actual = await sriOfFile(file, "sha512");
  if (actual !== pkg.integrity) {
    await rm(file, { force: true });
    throw new Error(
      `${file}: integrity ${actual} differs from the one pinned in src/images/definitions.ts (${pkg.integrity}); ` +
        "check the package and update NODE_RELEASE if the new one is right",
    );
  }
  return file;
}

/** /usr/local/bin/node and its licence, as one layer. */
export async function nodeLayer(
  arch: Arch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<LayerFile> {
  const key = nodeLayerKey(arch);
  return cachedLayer(cacheDir, key, async (partialTar) => {
    const tgz = await nodePackage(arch, cacheDir, progress);
    const staging = join(cacheDir, "staging", key);
    await rm(staging, { recursive: true, force: true });
    const bin = join(staging, "usr/local/bin");
    const doc = join(staging, "usr/local/share/doc/node");
    await mkdir(bin, { recursive: true });
    await mkdir(doc, { recursive: true });
    progress(`unpacking node ${NODE_RELEASE.version} for ${arch}`);
    await run("tar", ["-xzf", tgz, "-C", bin, "--strip-components=2", "package/bin/node"]);
    await run("tar", ["-xzf", tgz, "-C", doc, "--strip-components=1", "package/LICENSE"]);
    await chmod(join(bin, "node"), 0o755);
    await run("tar", [...REPRODUCIBLE_TAR, "-C", staging, "-cf", partialTar, "."]);
    await rm(staging, { recursive: true, force: true });
  });
}
