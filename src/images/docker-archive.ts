import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import type { Arch } from "./arch.ts";
import type { LayerFile } from "./cache.ts";

export interface ImageToLoad {
  tag: string;
  arch: Arch;
  layers: { file: LayerFile; createdBy: string }[];
  cmd: string[];
  env: string[];
  labels: Record<string, string>;
}

/**
 * The image config Docker stores: the architecture is written here, which is how an image is labelled
 * with the architecture it really is (`docker import` cannot do that on this engine).
 */
export function imageConfig(image: ImageToLoad, created: string): Record<string, unknown> {
  return {
    architecture: image.arch,
    ...(image.arch === "arm64" ? { variant: "v8" } : {}),
    os: "linux",
    created,
    config: { Env: image.env, Cmd: image.cmd, Labels: image.labels, WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: image.layers.map((layer) => layer.file.diffId) },
    history: image.layers.map((layer) => ({ created, created_by: layer.createdBy })),
  };
}

/**
 * Loads an image into the engine from layer tars, in the `docker save` layout (manifest.json, config,
 * layer tars). The engine tags the image only once every layer is in, so an interrupted load leaves no
 * half-made image under the tag.
 */
export async function loadImage(engine: Docker, image: ImageToLoad, workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const staging = await mkdtemp(join(workDir, "load-"));
  try {
    const config = `${JSON.stringify(imageConfig(image, new Date().toISOString()))}\n`;
    const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
    await writeFile(join(staging, configName), config);
    const layerNames = image.layers.map((_, i) => `layer-${i}.tar`);
    await Promise.all(
      image.layers.map((layer, i) => symlink(layer.file.path, join(staging, layerNames[i]!))),
    );
    const manifest = [{ Config: configName, RepoTags: [image.tag], Layers: layerNames }];
    await writeFile(join(staging, "manifest.json"), JSON.stringify(manifest));

    // tar -h follows the symlinks, so the layers stream from the cache without a copy.
    const tar = spawn("tar", ["-C", staging, "-ch", "."], { stdio: ["ignore", "pipe", "pipe"] });
    let tarErrors = "";
    tar.stderr.on("data", (chunk: Buffer) => {
      tarErrors += chunk.toString();
    });
    const tarExit = new Promise<number>((resolve) => tar.on("close", (code) => resolve(code ?? -1)));
    const response = (await engine.loadImage(tar.stdout, { quiet: true })) as NodeJS.ReadableStream;
    const messages = await readAll(response);
    if ((await tarExit) !== 0) throw new Error(`tar of ${staging} failed: ${tarErrors.trim()}`);
    const error = messages.find((m) => m.error || m.errorDetail);
    if (error) throw new Error(`loading ${image.tag} failed: ${error.error ?? error.errorDetail?.message}`);
    return (await engine.getImage(image.tag).inspect()).Id;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

interface LoadMessage {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<LoadMessage[]> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .map((line) => {
      try {
        return JSON.parse(line) as LoadMessage;
      } catch {
        return { stream: line };
      }
    });
}
