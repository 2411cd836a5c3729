import type { Arch } from "../../report/model.ts";
import type { CellContext, WorkspaceFacts } from "../workspace.ts";

/** Which local image each of the devfile's images runs as on this cell, for the container.image probe. */
export function imageFacts(
  cell: CellContext,
  imageFor: ((reference: string, arch: Arch) => string) | undefined,
): WorkspaceFacts {
  if (!imageFor) return {};
  return {
    imageMap: Object.fromEntries(cell.spec.containers.map((c) => [c.image, imageFor(c.image, cell.arch)])),
  };
}
