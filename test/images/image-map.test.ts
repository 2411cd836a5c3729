import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ARCHES,
  IMAGE_KINDS,
  IMAGE_MAP,
  localImageName,
  normalizeReference,
  resolveImage,
} from "../../src/images/index.ts";

const arch = fc.constantFrom(...ARCHES);
const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,11}$/);
const reference = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.option(segment, { nil: undefined }))
  .map(([path, tag]) => `${path.join("/")}${tag ? `:${tag}` : ""}`);

describe("image map", () => {
  it("maps the scenario references it names explicitly", () => {
    expect(resolveImage("registry.example.com/ubi9/nodejs-18", "arm64")).toMatchObject({
      image: "wsparity/node:arm64",
      pattern: "*/nodejs-*",
      standIn: false,
    });
    expect(resolveImage("registry.access.redhat.com/ubi8/nodejs-18:1-32", "amd64").image).toBe(
      "wsparity/node:amd64",
    );
    expect(resolveImage("docker.io/library/debian:bookworm-slim", "arm64").image).toBe("wsparity/base:arm64");
    expect(
      resolveImage("registry.gitlab.com/gitlab-org/remote-development/gitlab-workspaces-tools:2.0.0", "amd64")
        .image,
    ).toBe("wsparity/tools:amd64");
  });

  it("runs anything not built here on the node image of the requested architecture, and says so", () => {
    const resolved = resolveImage("registry.access.redhat.com/ubi9/python-39:1-1784840643", "arm64");
    expect(resolved).toMatchObject({ image: "wsparity/node:arm64", kind: "node", standIn: true });
    expect(resolved.why).toMatch(/not built here/);
  });

  it("resolves every reference, to an image of the requested architecture", () => {
    fc.assert(
      fc.property(reference, arch, (ref, a) => {
        const resolved = resolveImage(ref, a);
        expect(resolved.image).toBe(localImageName(resolved.kind, a));
        expect(resolved.arch).toBe(a);
      }),
    );
  });

  it("ignores a digest and Docker Hub's default prefixes", () => {
    fc.assert(
      fc.property(reference, arch, fc.stringMatching(/^[0-9a-f]{64}$/), (ref, a, digest) => {
        const plain = resolveImage(ref, a);
        expect(resolveImage(`${ref}@sha256:${digest}`, a).image).toBe(plain.image);
        if (!ref.includes("/")) expect(resolveImage(`docker.io/library/${ref}`, a).image).toBe(plain.image);
      }),
    );
    expect(normalizeReference("Docker.io/library/Node:20@sha256:abc")).toBe("node:20");
  });

  it("maps each image built here to itself", () => {
    for (const kind of IMAGE_KINDS) {
      for (const a of ARCHES)
        expect(resolveImage(localImageName(kind, a), a).image).toBe(localImageName(kind, a));
    }
  });

  it("ends with a catch-all rule, so no reference is left without an image", () => {
    expect(IMAGE_MAP.at(-1)?.pattern).toBe("*");
    expect(() => resolveImage("x", "amd64", [{ pattern: "y", image: "base", why: "" }])).toThrow(
      /end it with a "\*" rule/,
    );
  });
});

describe("image names", () => {
  it("use the repository WSPARITY_IMAGE_REPO names, and refuse one Docker would not accept", () => {
    const saved = process.env.WSPARITY_IMAGE_REPO;
    try {
      process.env.WSPARITY_IMAGE_REPO = "wsparity-ci-2";
      expect(localImageName("tools", "arm64")).toBe("wsparity-ci-2/tools:arm64");
      process.env.WSPARITY_IMAGE_REPO = "Bad Name";
      expect(() => localImageName("base", "amd64")).toThrow(/WSPARITY_IMAGE_REPO=Bad Name/);
    } finally {
      if (saved === undefined) delete process.env.WSPARITY_IMAGE_REPO;
      else process.env.WSPARITY_IMAGE_REPO = saved;
    }
  });
});
