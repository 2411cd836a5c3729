import { describe, expect, it } from "vitest";
import { imageConfig } from "../../src/images/docker-archive.ts";

describe("image config for docker load", () => {
  const layers = [
    { file: { path: "/x/base.tar", diffId: "sha256:aa" }, createdBy: "debootstrap" },
    { file: { path: "/x/node.tar", diffId: "sha256:bb" }, createdBy: "node" },
  ];

  it("labels the image with its real architecture", () => {
    const arm = imageConfig(
      { tag: "t", arch: "arm64", layers, cmd: ["bash"], env: [], labels: {} },
      "2026-01-01T00:00:00Z",
    );
    expect(arm).toMatchObject({ architecture: "arm64", variant: "v8", os: "linux" });
    const amd = imageConfig(
      { tag: "t", arch: "amd64", layers, cmd: ["bash"], env: [], labels: {} },
      "2026-01-01T00:00:00Z",
    );
    expect(amd).toMatchObject({ architecture: "amd64", os: "linux" });
    expect(amd).not.toHaveProperty("variant");
  });

  it("lists the layers' diff ids in order, with one history entry per layer", () => {
    const config = imageConfig(
      { tag: "t", arch: "amd64", layers, cmd: ["node"], env: ["A=1"], labels: { k: "v" } },
      "2026-01-01T00:00:00Z",
    ) as { rootfs: { diff_ids: string[] }; history: unknown[]; config: Record<string, unknown> };
    expect(config.rootfs.diff_ids).toEqual(["sha256:aa", "sha256:bb"]);
    expect(config.history).toHaveLength(2);
    expect(config.config).toMatchObject({ Cmd: ["node"], Env: ["A=1"], Labels: { k: "v" } });
  });
});
