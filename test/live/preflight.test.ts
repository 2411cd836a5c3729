import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { readComposeFile } from "../../src/live/compose-file.ts";
import { formatMissing, gitlabTooOld, type Machine, preflight } from "../../src/live/preflight.ts";

/** A machine with everything the live tier needs, where each test takes one thing away. */
function machine(overrides: {
  compose?: "v2" | "v1" | "none";
  engine?: boolean;
  images?: string[] | "all";
  files?: Record<string, string | undefined>;
}): Machine {
  const { compose = "v2", engine = true, images = "all", files = {} } = overrides;
  const all: Record<string, string | undefined> = {
    "/proc/sys/fs/binfmt_misc/qemu-aarch64":
      "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n",
    "/lic": "x",
    ...files,
  };
  return {
    exists: (p) => p in all && all[p] !== undefined,
    read: (p) => all[p] ?? "",
    exec(cmd, args) {
      const ok = { status: 0, stdout: "2.29.0\n", stderr: "" };
      const no = { status: 1, stdout: "", stderr: "not here" };
      if (cmd === "docker" && args[0] === "compose") return compose === "v2" ? ok : no;
      if (cmd === "docker-compose") return compose === "v1" ? { ...ok, stdout: "1.29.2\n" } : no;
      if (cmd === "docker" && args[0] === "version") return engine ? ok : no;
      if (cmd === "docker" && args[0] === "image") {
        const image = args.at(-1) ?? "";
        return images === "all" || images.includes(image) ? ok : no;
      }
      return no;
    },
  };
}

const compose = readComposeFile();
const input = { compose, profile: "live", licenceFile: "/lic", arches: ["amd64", "arm64"] };

describe("live tier preflight", () => {
  it("finds nothing missing on a machine that has everything (compose v1 counts)", () => {
    expect(preflight(input, machine({}))).toEqual([]);
    expect(preflight(input, machine({ compose: "v1" }))).toEqual([]);
  });

  it("no compose at all: says how to get either version", () => {
    const [m] = preflight(input, machine({ compose: "none" }));
    expect(m?.what).toBe("Docker Compose");
    expect(m?.how).toMatch(/compose v2 plugin.*docker-compose 1\.29.*setup:docker/);
  });

  it("no Docker engine: one message, no image checks behind it", () => {
    const missing = preflight(input, machine({ engine: false }));
    expect(missing).toHaveLength(1);
    expect(missing[0]?.how).toContain("npm run setup:docker");
  });

  it("images absent and no registry: each image named, with docker save/load", () => {
    const missing = preflight(input, machine({ images: ["wsparity/node:amd64"] }));
    const images = missing.filter((m) => m.what.startsWith("image "));
    expect(images.map((m) => m.what)).toEqual([
      "image gitlab/gitlab-ee:18.11.3-ee.0",
      "image rancher/k3s:v1.33.5-k3s1",
      "image gitlab/gitlab-runner:v18.11.2",
    ]);
    for (const m of images) expect(m.how).toMatch(/docker pull .*docker save.*docker load/);
  });

  it("the project's own image missing: says to build it", () => {
    const images = [
      "gitlab/gitlab-ee:18.11.3-ee.0",
      "rancher/k3s:v1.33.5-k3s1",
      "gitlab/gitlab-runner:v18.11.2",
    ];
    const [m] = preflight(input, machine({ images }));
    expect(m).toEqual({
      what: "image wsparity/node:amd64",
      how: "build the project's images: npm run images:build",
    });
  });

  it("no licence, or a licence path that does not exist", () => {
    expect(preflight({ ...input, licenceFile: undefined }, machine({}))[0]?.how).toMatch(
      /Premium or Ultimate: set WSPARITY_GITLAB_LICENSE/,
    );
    expect(preflight({ ...input, licenceFile: "/nope" }, machine({}))[0]?.what).toBe(
      "the licence file /nope",
    );
  });

  it("binfmt not registered, or registered but disabled, when arm64 is asked for; not when it is not", () => {
    const gone = machine({
      files: { "/proc/sys/fs/binfmt_misc/qemu-aarch64": undefined as unknown as string },
    });
    expect(preflight(input, gone)[0]?.what).toBe("QEMU binfmt for arm64");
    const disabled = machine({ files: { "/proc/sys/fs/binfmt_misc/qemu-aarch64": "disabled\n" } });
    expect(preflight(input, disabled)[0]?.how).toContain("npm run setup:docker registers it");
    expect(preflight({ ...input, arches: ["amd64"] }, gone)).toEqual([]);
  });

  it("a GitLab older than the APIs used", () => {
    expect(gitlabTooOld("18.11.3-ee")).toBeUndefined();
    expect(gitlabTooOld("19.0.0")).toBeUndefined();
    expect(gitlabTooOld("17.11.2-ee")?.how).toContain("this GitLab is 17.11.2-ee");
    expect(gitlabTooOld("banana")?.how).toContain('GitLab reports "banana"');
  });

  it("formats the list with a count and 'nothing was started'", () => {
    const text = formatMissing(preflight({ ...input, licenceFile: undefined }, machine({ compose: "none" })));
    expect(text.split("\n")[0]).toBe("live tier preflight: 2 prerequisites missing; nothing was started");
  });

  it("`wsparity live up` on this machine (no GitLab image, no licence) exits 2 and starts nothing", () => {
    const r = spawnSync("node", ["bin/wsparity.js", "live", "up"], {
      encoding: "utf8",
      env: { ...process.env, WSPARITY_GITLAB_LICENSE: "" },
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/live tier preflight: \d+ prerequisites? missing; nothing was started/);
  });

  it("`wsparity live up --dry-run` prints the plan and the preflight, exit 0", () => {
    const r = spawnSync("node", ["bin/wsparity.js", "live", "up", "--dry-run"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("gitlab: GET /-/readiness on port 8929 answers 200, within 20 min");
    expect(r.stdout).toContain("namespaceCreateRemoteDevelopmentClusterAgentMapping");
    expect(r.stdout).toMatch(/preflight: /);
  });
});
