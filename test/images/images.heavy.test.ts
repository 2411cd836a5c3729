import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { cleanupByLabel, dockerEngine, isNotFound, WorkspaceContainer } from "../../src/containers/index.ts";
import {
  ARCHES,
  type BuiltImage,
  IMAGE_KINDS,
  IMAGE_LABELS,
  localImageName,
  NODE_RELEASE,
  UNAME_MACHINE,
} from "../../src/images/index.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "../containers/docker-available.ts";
import { describeUnless } from "../support/skip.ts";

const docker = await dockerForTests();
const run = promisify(execFile);
const CACHE_DIR = process.env.WSPARITY_CACHE_DIR ?? "/var/cache/wsparity";
const NODE_ARCH = { amd64: "x64", arm64: "arm64" } as const;

async function build(...args: string[]): Promise<{ seconds: number; images: BuiltImage[] }> {
  const { stdout } = await run("node", ["bin/wsparity.js", "images", "build", "--json", ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout) as { seconds: number; images: BuiltImage[] };
}

/** Keeps reading a child's output (so its writes never fail), and tells when some text has appeared. */
function collectOutput(stream: Readable): {
  seen: (text: string, exited: Promise<unknown>) => Promise<void>;
  text: () => string;
} {
  let text = "";
  const waiting: { text: string; resolve: () => void }[] = [];
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    for (const w of waiting.filter((w) => text.includes(w.text))) w.resolve();
  });
  return {
    seen: (wanted, exited) =>
      Promise.race([
        new Promise<void>((resolve) => {
          if (text.includes(wanted)) resolve();
          else waiting.push({ text: wanted, resolve });
        }),
        exited.then(() => {
          if (!text.includes(wanted))
            throw new Error(`the build ended without printing "${wanted}":\n${text}`);
        }),
      ]),
    text: () => text,
  };
}

/** Processes whose command line names dir (debootstrap and its children name their target). */
function processesUsing(dir: string): string[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
        return cmdline.includes(dir) && !cmdline.includes("images build") ? [`${pid} ${cmdline}`] : [];
      } catch {
        return [];
      }
    });
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await dockerEngine().getImage(tag).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("wsparity images build", () => {
  afterAll(async () => {
    await cleanupByLabel("own");
  });

  it("builds every image for both architectures, and a second run is a no-op", {
    timeout: 1_800_000,
  }, async () => {
    await build();
    const started = Date.now();
    const second = await build();
    console.log(
      `images build, second run: ${((Date.now() - started) / 1000).toFixed(1)} s (CLI start included)`,
    );
    expect(second.images.map((i) => `${i.tag} ${i.state}`)).toEqual(
      ARCHES.flatMap((arch) => IMAGE_KINDS.map((kind) => `${localImageName(kind, arch)} up to date`)),
    );
    for (const image of second.images) {
      const info = await dockerEngine().getImage(image.tag).inspect();
      expect(info.Architecture).toBe(image.arch);
      expect(info.Config.Labels).toMatchObject({
        [IMAGE_LABELS.inputs]: image.inputs,
        [IMAGE_LABELS.arch]: image.arch,
      });
    }
  });

  it.each(ARCHES.flatMap((arch) => IMAGE_KINDS.map((kind) => [kind, arch] as const)))(
    "the %s image for %s runs on its own architecture",
    async (kind, arch) => {
      const probe = [
        "uname -m",
        kind === "base" ? "echo no-node" : "node -p 'process.arch + \" \" + process.version'",
        kind === "tools"
          ? "node --check /opt/wsparity/wsparity-agent.mjs && node --check /opt/wsparity/wsparity-editor.mjs && echo tools-ok || echo no-tools"
          : "true",
        "cat /etc/wsparity-image",
      ].join("; ");
      const container = await new WorkspaceContainer(localImageName(kind, arch))
        .withPlatform(arch)
        .withCommand(["bash", "-c", probe])
        .start();
      expect(await container.wait()).toBe(0);
      const lines = (await container.logs()).stdout.trim().split("\n");
      expect(lines[0]).toBe(UNAME_MACHINE[arch]);
      if (kind !== "base") expect(lines[1]).toBe(`${NODE_ARCH[arch]} v${NODE_RELEASE.version}`);
      if (kind === "tools") {
        const agent = (await dockerEngine().getImage(localImageName(kind, arch)).inspect()).Config.Labels[
          "io.wsparity.image.agent"
        ];
        expect(lines[2]).toBe(agent?.startsWith("sha256:") ? "tools-ok" : "no-tools");
      }
      expect(lines.at(-1)).toBe(localImageName(kind, arch));
      await container.remove();
    },
  );

  // These two build under a repository of their own, so the images other tests use are never touched.
  const scratchRepository = `wsparity-ctrl-c-${process.pid}`;
  const scratchEnv = { ...process.env, WSPARITY_IMAGE_REPO: scratchRepository };
  const scratchTag = `${scratchRepository}/base:amd64`;

  afterAll(async () => {
    await dockerEngine()
      .getImage(scratchTag)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it("Ctrl-C during debootstrap ends it with everything it started, and tags nothing", {
    timeout: 300_000,
  }, async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "wsparity-cache-"));
    try {
      const child = spawn(
        "node",
        ["bin/wsparity.js", "images", "build", "--arch", "amd64", "--only", "base", "--cache-dir", cacheDir],
        { stdio: ["ignore", "ignore", "pipe"], env: scratchEnv },
      );
      const exited = once(child, "exit");
      const output = collectOutput(child.stderr);
      await output.seen("debootstrap bookworm for amd64", exited);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(processesUsing(cacheDir).length).toBeGreaterThan(0);
      child.kill("SIGINT");
      const [code] = (await exited) as [number];
      expect({ code, output: output.text().split("\n").slice(-3) }).toMatchObject({ code: 130 });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(processesUsing(cacheDir)).toEqual([]);
      expect(await imageExists(scratchTag)).toBe(false);
    } finally {
      await run("bash", ["-c", `umount -R ${cacheDir}/rootfs/* 2>/dev/null; rm -rf ${cacheDir}`]);
    }
  });

  it("Ctrl-C while an image loads leaves it untagged and no staging files", {
    timeout: 300_000,
  }, async () => {
    const containersBefore = (await dockerEngine().listContainers({ all: true })).length;
    const child = spawn("node", ["bin/wsparity.js", "images", "build", "--arch", "amd64", "--only", "base"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: scratchEnv,
    });
    const exited = once(child, "exit");
    await collectOutput(child.stderr).seen(`${scratchTag}: loading into the Docker engine`, exited);
    child.kill("SIGINT");
    const [code] = (await exited) as [number];
    expect(code).toBe(130);
    expect(await imageExists(scratchTag)).toBe(false);
    const tmp = join(CACHE_DIR, "tmp");
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect((await dockerEngine().listContainers({ all: true })).length).toBe(containersBefore);

    const { stdout } = await run(
      "node",
      ["bin/wsparity.js", "images", "build", "--json", "--arch", "amd64", "--only", "base"],
      {
        encoding: "utf8",
        env: scratchEnv,
      },
    );
    const rebuilt = JSON.parse(stdout) as { images: BuiltImage[] };
    expect(rebuilt.images.map((i) => `${i.tag} ${i.state}`)).toEqual([`${scratchTag} built`]);
  });
});
