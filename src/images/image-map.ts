import type { Arch } from "./arch.ts";
import { type ImageKind, localImageName, NODE_RELEASE } from "./definitions.ts";

/**
 * The docker tier cannot pull: every image reference a scenario or devfile names runs as one of the
 * images built here. The first rule whose pattern matches wins (`*` matches any run of characters);
 * references are compared without a `docker.io/library/` prefix and without a digest.
 */
export interface ImageMapRule {
  pattern: string;
  image: ImageKind;
  why: string;
}

export const IMAGE_MAP: readonly ImageMapRule[] = [
  { pattern: "wsparity/base:*", image: "base", why: "built here" },
  { pattern: "wsparity/node:*", image: "node", why: "built here" },
  { pattern: "wsparity/tools:*", image: "tools", why: "built here" },
  {
    pattern: "registry.gitlab.com/gitlab-org/remote-development/gitlab-workspaces-tools*",
    image: "tools",
    why: "GitLab's workspace tools image; here the tools image carries the wsparity agent and node",
  },
  { pattern: "debian", image: "base", why: "Debian bookworm from debootstrap" },
  { pattern: "debian:bookworm*", image: "base", why: "Debian bookworm from debootstrap" },
  { pattern: "node", image: "node", why: `Node ${NODE_RELEASE.version} on Debian bookworm` },
  { pattern: "node:*", image: "node", why: `Node ${NODE_RELEASE.version} on Debian bookworm` },
  {
    pattern: "*/nodejs-*",
    image: "node",
    why: `a Node.js image (UBI); here Node ${NODE_RELEASE.version} on bookworm`,
  },
  {
    pattern: "quay.io/devfile/universal-developer-image*",
    image: "node",
    why: `the devfile registry's universal image, which carries Node; here Node ${NODE_RELEASE.version} on bookworm`,
  },
  {
    pattern: "*",
    image: "node",
    why: "not built here: the node image of the requested architecture stands in",
  },
];

export interface ResolvedImage {
  reference: string;
  arch: Arch;
  /** The local image to run. */
  image: string;
  kind: ImageKind;
  pattern: string;
  why: string;
  /** True when only the catch-all rule matched: the workspace runs on a stand-in image. */
  standIn: boolean;
}

/** `docker.io/library/node:20@sha256:…` → `node:20`. */
export function normalizeReference(reference: string): string {
  let ref = reference.trim().toLowerCase();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  for (const prefix of ["docker.io/library/", "index.docker.io/library/", "docker.io/", "library/"]) {
    if (ref.startsWith(prefix)) {
      ref = ref.slice(prefix.length);
      break;
    }
  }
  return ref;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

const COMPILED = IMAGE_MAP.map((rule) => ({ rule, regexp: globToRegExp(rule.pattern) }));

export function resolveImage(
  reference: string,
  arch: Arch,
  map: readonly ImageMapRule[] = IMAGE_MAP,
): ResolvedImage {
  const normalized = normalizeReference(reference);
  const compiled =
    map === IMAGE_MAP ? COMPILED : map.map((rule) => ({ rule, regexp: globToRegExp(rule.pattern) }));
  const match = compiled.find(({ regexp }) => regexp.test(normalized));
  if (!match) throw new Error(`image map has no rule for ${reference}: end it with a "*" rule`);
  const { rule } = match;
  return {
    reference,
    arch,
    image: localImageName(rule.image, arch),
    kind: rule.image,
    pattern: rule.pattern,
    why: rule.why,
    standIn: rule.pattern === "*",
  };
}

/** The map as rows for reports: pattern, the image it maps to per architecture, and why. */
export function imageMapRows(arches: readonly Arch[]): { pattern: string; images: string[]; why: string }[] {
  return IMAGE_MAP.map((rule) => ({
    pattern: rule.pattern,
    images: arches.map((arch) => localImageName(rule.image, arch)),
    why: rule.why,
  }));
}
