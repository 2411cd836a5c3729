import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type Docker from "dockerode";
import { dockerEngine, engineAnswers, isNotFound } from "../containers/index.ts";
import {
  type AgentBundle,
  agentLayer,
  agentLayerKey,
  buildAgentBundle,
  EDITOR_IN_IMAGE,
} from "./agent-layer.ts";
import type { Arch } from "./arch.ts";
import { baseLayer, baseLayerKey } from "./base-layer.ts";
import { hashOf, type LayerFile } from "./cache.ts";
import {
  AGENT_BUNDLE,
  DEBOOTSTRAP,
  DEFAULT_PATH,
  IMAGE_LABELS,
  type ImageKind,
  localImageName,
  NODE_RELEASE,
  RECIPE_VERSION,
} from "./definitions.ts";
import { loadImage } from "./docker-archive.ts";
import { IMAGE_MARKER_PATH, markerLayer, markerLayerKey } from "./marker-layer.ts";
import { nodeLayer, nodeLayerKey } from "./node-layer.ts";

export interface BuildOptions {
  arches: Arch[];
  kinds: ImageKind[];
  projectDir: string;
  cacheDir: string;
  progress: (line: string) => void;
}

export interface BuiltImage {
  tag: string;
  kind: ImageKind;
  arch: Arch;
  state: "built" | "up to date";
  imageId: string;
  inputs: string;
  seconds: number;
  sizeMB: number;
  /** Present on tools images: whether they carry the agent bundle. */
  agent?: string;
}

interface LayerPlan {
  key: string;
  createdBy: string;
  make: () => Promise<LayerFile>;
}

interface ImagePlan {
  tag: string;
  kind: ImageKind;
  arch: Arch;
  layers: LayerPlan[];
  cmd: string[];
  env: string[];
  extraLabels: Record<string, string>;
}

function planImage(
  kind: ImageKind,
  arch: Arch,
  agent: AgentBundle | undefined,
  options: BuildOptions,
): ImagePlan {
  const { cacheDir, progress } = options;
  const say = (line: string) => progress(`${localImageName(kind, arch)}: ${line}`);
  const base: LayerPlan = {
    key: baseLayerKey(arch),
    createdBy: `debootstrap --variant=${DEBOOTSTRAP.variant} --arch=${arch} --include=${DEBOOTSTRAP.include.join(",")} ${DEBOOTSTRAP.suite}`,
    make: () => baseLayer(arch, cacheDir, say),
  };
  const node: LayerPlan = {
    key: nodeLayerKey(arch),
    createdBy: `node ${NODE_RELEASE.version} (${NODE_RELEASE.packages[arch].name}) at /usr/local/bin/node`,
    make: () => nodeLayer(arch, cacheDir, say),
  };
  const nodeEnv = [`PATH=${DEFAULT_PATH}`, `NODE_VERSION=${NODE_RELEASE.version}`];
  const nodeLabels = { "io.wsparity.image.node-version": NODE_RELEASE.version };
  const tag = localImageName(kind, arch);
  const marker: LayerPlan = {
    key: markerLayerKey(tag),
    createdBy: `${IMAGE_MARKER_PATH} naming ${tag}`,
    make: () => markerLayer(tag, cacheDir),
  };
  const plan = planLayers(kind, arch, agent, options, { base, node, tag, nodeEnv, nodeLabels });
  return { ...plan, layers: [...plan.layers, marker] };
}

function planLayers(
  kind: ImageKind,
  arch: Arch,
  agent: AgentBundle | undefined,
  options: BuildOptions,
  parts: {
    base: LayerPlan;
    node: LayerPlan;
    tag: string;
    nodeEnv: string[];
    nodeLabels: Record<string, string>;
  },
): ImagePlan {
  const { cacheDir } = options;
  const { base, node, tag, nodeEnv, nodeLabels } = parts;
  if (kind === "base") {
    return { tag, kind, arch, layers: [base], cmd: ["bash"], env: [`PATH=${DEFAULT_PATH}`], extraLabels: {} };
  }
  if (kind === "node") {
    return { tag, kind, arch, layers: [base, node], cmd: ["node"], env: nodeEnv, extraLabels: nodeLabels };
  }
  if (agent?.state !== "built") {
    return {
      tag,
      kind,
      arch,
      layers: [base, node],
      cmd: ["bash"],
      env: nodeEnv,
      extraLabels: {
        ...nodeLabels,
        "io.wsparity.image.agent": `absent: ${agent?.reason ?? "not requested"}`,
      },
    };
  }
  const bundle = agent;
  const agentPlan: LayerPlan = {
    key: agentLayerKey(bundle),
    createdBy: `${AGENT_BUNDLE.output} (npm run ${AGENT_BUNDLE.npmScript}) at ${AGENT_BUNDLE.pathInImage}, the editor at ${EDITOR_IN_IMAGE}`,
    make: () => agentLayer(bundle, cacheDir),
  };
  return {
    tag,
    kind,
    arch,
    layers: [base, node, agentPlan],
    cmd: ["node", AGENT_BUNDLE.pathInImage],
    env: [...nodeEnv, `WSPARITY_AGENT=${AGENT_BUNDLE.pathInImage}`],
    extraLabels: { ...nodeLabels, "io.wsparity.image.agent": `sha256:${bundle.sha256}` },
  };
}

/** The content hash of everything an image is made from; stored in its label, compared on the next build. */
export function inputsHash(plan: ImagePlan): string {
  return hashOf({
    recipe: RECIPE_VERSION,
    kind: plan.kind,
    arch: plan.arch,
    layers: plan.layers.map((layer) => layer.key),
    cmd: plan.cmd,
    env: plan.env,
    labels: plan.extraLabels,
  });
}

async function existingInputs(
  engine: Docker,
  tag: string,
): Promise<{ inputs?: string; id: string; size: number } | undefined> {
  try {
    const info = await engine.getImage(tag).inspect();
    return { inputs: info.Config.Labels?.[IMAGE_LABELS.inputs], id: info.Id, size: info.Size };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function checkEmulation(arch: Arch): void {
  if (arch !== "arm64" || process.arch === "arm64") return;
  const entry = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
  if (!existsSync(entry) || !readFileSync(entry, "utf8").startsWith("enabled")) {
    throw new Error(
      `${entry} is not enabled, so arm64 programs cannot run here: run scripts/setup-docker.sh first`,
    );
  }
}

/**
 * Builds the docker tier's images, with no registry: each is skipped when an image with the same inputs
 * hash is already tagged, so a second run with nothing changed only inspects.
 */
export async function buildImages(options: BuildOptions): Promise<BuiltImage[]> {
  if (!(await engineAnswers())) {
    throw new Error(
      "no Docker engine answers on /var/run/docker.sock (or DOCKER_HOST): run scripts/setup-docker.sh first",
    );
  }
  const engine = dockerEngine();
  const agent = options.kinds.includes("tools")
    ? await buildAgentBundle(options.projectDir, (line) => options.progress(line))
    : undefined;
  if (agent?.state === "absent")
    options.progress(`warning: the tools image carries no agent bundle: ${agent.reason}`);
  // The architectures build side by side (amd64's debootstrap waits on the network, arm64's on QEMU);
  // within one, each image needs the one before it.
  const perArch = await Promise.all(
    options.arches.map(async (arch) => {
      const built: BuiltImage[] = [];
      for (const kind of options.kinds)
        built.push(await buildImage(engine, planImage(kind, arch, agent, options), options));
      return built;
    }),
  );
  const results = perArch.flat();
  if (results.some((r) => r.state === "built")) await removeReplacedImages(engine);
  return results;
}

async function buildImage(engine: Docker, plan: ImagePlan, options: BuildOptions): Promise<BuiltImage> {
  const started = Date.now();
  const inputs = inputsHash(plan);
  const agentNote = plan.extraLabels["io.wsparity.image.agent"];
  const result = (state: BuiltImage["state"], imageId: string, size: number): BuiltImage => ({
    tag: plan.tag,
    kind: plan.kind,
    arch: plan.arch,
    state,
    imageId,
    inputs,
    seconds: (Date.now() - started) / 1000,
    sizeMB: Math.round(size / 1e6),
    ...(agentNote ? { agent: agentNote } : {}),
  });
  const existing = await existingInputs(engine, plan.tag);
  if (existing?.inputs === inputs) return result("up to date", existing.id, existing.size);

  options.progress(`${plan.tag}: building (inputs ${inputs.slice(0, 12)})`);
  checkEmulation(plan.arch);
  const layers = [];
  for (const layer of plan.layers) layers.push({ file: await layer.make(), createdBy: layer.createdBy });
  options.progress(`${plan.tag}: loading into the Docker engine`);
  const labels = {
    ...plan.extraLabels,
    [IMAGE_LABELS.kind]: plan.kind,
    [IMAGE_LABELS.arch]: plan.arch,
    [IMAGE_LABELS.inputs]: inputs,
  };
  const image = { tag: plan.tag, arch: plan.arch, layers, cmd: plan.cmd, env: plan.env, labels };
  const imageId = await loadImage(engine, image, join(options.cacheDir, "tmp"));
  return result("built", imageId, (await engine.getImage(imageId).inspect()).Size);
}

/** A rebuilt image takes the tag; the one it replaced is left untagged. Remove those. */
async function removeReplacedImages(engine: Docker): Promise<void> {
  await engine.pruneImages({ filters: { dangling: ["true"], label: [IMAGE_LABELS.kind] } });
}
