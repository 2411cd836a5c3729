import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CheckFailed, UsageError } from "../util/errors.ts";
import { ARCHES, type Arch, isArch } from "./arch.ts";
import { type BuiltImage, buildImages } from "./build.ts";
import { defaultCacheDir } from "./cache.ts";
import { IMAGE_KINDS, type ImageKind } from "./definitions.ts";
import { imageMapRows, resolveImage } from "./image-map.ts";
import { killRunningChildren } from "./processes.ts";

const PROJECT_DIR = resolve(fileURLToPath(new URL("../..", import.meta.url)));

function parseArches(value: string): Arch[] {
  const arches = value.split(",").map((a) => a.trim());
  for (const arch of arches) {
    if (!isArch(arch)) throw new UsageError(`--arch ${arch}: choose from ${ARCHES.join(", ")}`);
  }
  return arches as Arch[];
}

function parseKinds(value: string): ImageKind[] {
  const kinds = value.split(",").map((k) => k.trim());
  for (const kind of kinds) {
    if (!(IMAGE_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`--only ${kind}: choose from ${IMAGE_KINDS.join(", ")}`);
    }
  }
  // Built in dependency order whatever order was given.
  return IMAGE_KINDS.filter((kind) => kinds.includes(kind));
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function builtTable(images: BuiltImage[]): string {
  return table(
    ["image", "arch", "state", "seconds", "MB", "inputs"],
    images.map((i) => [
      i.tag,
      i.arch,
      i.state,
      i.seconds.toFixed(1),
      String(i.sizeMB),
      i.inputs.slice(0, 12),
    ]),
  );
}

/** Ctrl-C during a build: stop debootstrap/tar, drop the load's staging files, exit 130. Nothing gets tagged. */
function stopOnSignals(cacheDir: string): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`images build: ${signal}: stopping; nothing half-made is tagged\n`);
    killRunningChildren();
    rmSync(join(cacheDir, "tmp"), { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

export function registerImagesCommands(program: Command): void {
  const images = program
    .command("images")
    .description("The docker tier's images, built here from debootstrap (no registry).");

  images
    .command("build")
    .description(
      "Build the base, node and tools images for each architecture; a second run with nothing changed is a no-op.",
    )
    .option("--arch <list>", "architectures, comma-separated", ARCHES.join(","))
    .option("--only <list>", `images, comma-separated (${IMAGE_KINDS.join(", ")})`, IMAGE_KINDS.join(","))
    .option(
      "--cache-dir <dir>",
      "where debootstrap output, node packages and layers are kept",
      defaultCacheDir(),
    )
    .option("--json", "print the result as JSON")
    .action(async (opts: { arch: string; only: string; cacheDir: string; json?: boolean }) => {
      const arches = parseArches(opts.arch);
      const requested = parseKinds(opts.only);
      // An image needs the ones below it, so asking for tools builds (or checks) base and node too.
      const kinds = IMAGE_KINDS.slice(0, Math.max(...requested.map((k) => IMAGE_KINDS.indexOf(k))) + 1);
      const started = Date.now();
      const release = stopOnSignals(opts.cacheDir);
      let built: BuiltImage[];
      try {
        built = await buildImages({
          arches,
          kinds,
          projectDir: PROJECT_DIR,
          cacheDir: opts.cacheDir,
          progress: (line) => process.stderr.write(`images build: ${line}\n`),
        });
      } catch (err) {
        throw new CheckFailed(`images build: ${(err as Error).message}`);
      } finally {
        release();
      }
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ seconds: (Date.now() - started) / 1000, images: built }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(`${builtTable(built)}\n`);
      const agent = built.find((i) => i.kind === "tools")?.agent;
      if (agent) process.stdout.write(`tools image agent bundle: ${agent}\n`);
      process.stdout.write(
        `images build: ${built.filter((i) => i.state === "built").length} built, ` +
          `${built.filter((i) => i.state === "up to date").length} up to date, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });

  images
    .command("map")
    .description("Show which local image each image reference runs as (no argument: the whole map).")
    .argument("[references...]", "image references from scenarios or devfiles")
    .option("--arch <list>", "architectures, comma-separated", ARCHES.join(","))
    .option("--json", "print as JSON")
    .action((references: string[], opts: { arch: string; json?: boolean }) => {
      const arches = parseArches(opts.arch);
      if (references.length === 0) {
        const rows = imageMapRows(arches);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else
          process.stdout.write(
            `${table(
              ["pattern", ...arches, "why"],
              rows.map((r) => [r.pattern, ...r.images, r.why]),
            )}\n`,
          );
        return;
      }
      const resolved = references.flatMap((ref) => arches.map((arch) => resolveImage(ref, arch)));
      if (opts.json) process.stdout.write(`${JSON.stringify(resolved, null, 2)}\n`);
      else
        process.stdout.write(
          `${table(
            ["reference", "arch", "runs as", "rule", "why"],
            resolved.map((r) => [r.reference, r.arch, r.image, r.pattern, r.why]),
          )}\n`,
        );
    });
}
