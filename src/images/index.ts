export { ARCHES, type Arch, hostArch, isArch, UNAME_MACHINE } from "./arch.ts";
export { type BuildOptions, type BuiltImage, buildImages } from "./build.ts";
export { registerImagesCommands } from "./commands.ts";
export {
  AGENT_BUNDLE,
  IMAGE_KINDS,
  IMAGE_LABELS,
  type ImageKind,
  localImageName,
  NODE_RELEASE,
} from "./definitions.ts";
export {
  IMAGE_MAP,
  type ImageMapRule,
  imageMapRows,
  normalizeReference,
  type ResolvedImage,
  resolveImage,
} from "./image-map.ts";
