import { mainContainer } from "../../devfile/spec.ts";
import { IMAGE_MARKER_PATH } from "../../images/marker-layer.ts";
import { describeExec, execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";
import { simCannotShow } from "./sim-tier.ts";

export const containerImage: Probe = {
  id: "container.image",
  notApplicable: simCannotShow("which image a container runs"),
  async run({ ws, spec }) {
    const image = mainContainer(spec).image;
    const expected = ws.facts.imageMap?.[image] ?? image;
    const out = await execInWorkspace(ws, ["cat", IMAGE_MARKER_PATH]);
    const actual = out.stdout.trim();
    const via = expected === image ? "" : ` (the image map sends ${image} to ${expected})`;
    if (out.exitCode === 0 && actual === expected) return supported(`main container runs ${actual}${via}`);
    return unsupported(`expected ${expected}${via}; ${describeExec(["cat", IMAGE_MARKER_PATH], out)}`);
  },
};
