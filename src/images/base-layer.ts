import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Arch } from "./arch.ts";
import { cachedLayer, hashOf, type LayerFile } from "./cache.ts";
import { DEBOOTSTRAP, RECIPE_VERSION } from "./definitions.ts";
import { run } from "./processes.ts";

export function baseLayerKey(arch: Arch): string {
  return `base-${arch}-${hashOf({ recipe: RECIPE_VERSION, arch, ...DEBOOTSTRAP }).slice(0, 16)}`;
}

/** Left out of the layer: Docker mounts its own /dev, /proc and /sys, and apt's downloads only take room. */
const EXCLUDED = [
  "./dev/*",
  "./proc/*",
  "./sys/*",
  "./var/cache/apt/archives/*.deb",
  "./var/lib/apt/lists/*",
];

/**
 * Debian bookworm from debootstrap, as one layer tar. arm64 runs its second stage under QEMU (binfmt),
 * which scripts/setup-docker.sh registers.
 */
export async function baseLayer(
  arch: Arch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<LayerFile> {
  const key = baseLayerKey(arch);
  return cachedLayer(cacheDir, key, async (partialTar) => {
    const rootfs = join(cacheDir, "rootfs", `${key}.partial`);
    await removeRootfs(rootfs);
    await mkdir(rootfs, { recursive: true });
    progress(`debootstrap ${DEBOOTSTRAP.suite} for ${arch} (about ${arch === "amd64" ? "1" : "3"} min)`);
    let lastShown = 0;
    await run(
      "debootstrap",
      [
        `--variant=${DEBOOTSTRAP.variant}`,
        `--arch=${arch}`,
        `--include=${DEBOOTSTRAP.include.join(",")}`,
        DEBOOTSTRAP.suite,
        rootfs,
        DEBOOTSTRAP.mirror,
      ],
      {
        onLine: (line) => {
          // debootstrap prints a few hundred lines; show a step every few seconds.
          if (line.startsWith("I: ") && Date.now() - lastShown > 5000) {
            lastShown = Date.now();
            progress(line.slice(3));
          }
        },
      },
    );
    await assertNothingMountedUnder(rootfs);
    progress(`packing the ${arch} root filesystem into a layer`);
    await run("tar", [
      "--numeric-owner",
      ...EXCLUDED.map((pattern) => `--exclude=${pattern}`),
      "-C",
      rootfs,
      "-cf",
      partialTar,
      ".",
    ]);
    await removeRootfs(rootfs);
  });
}

async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = `${resolve(dir)}/`;
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((mountPoint) => mountPoint.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

async function assertNothingMountedUnder(dir: string): Promise<void> {
  const mounts = await mountsUnder(dir);
  if (mounts.length > 0)
    throw new Error(`debootstrap left ${mounts.join(", ")} mounted; unmount them and run again`);
}

/** An interrupted debootstrap may leave /proc or /sys mounted in its target: unmount before deleting. */
async function removeRootfs(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const mountPoint of await mountsUnder(dir)) await run("umount", ["-l", mountPoint]);
  await rm(dir, { recursive: true, force: true });
}
