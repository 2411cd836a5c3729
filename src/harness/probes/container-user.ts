import { WORKSPACE_UID } from "../../kubernetes/settings.ts";
import { describeExec, execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

/** GitLab runs every workspace container as UID 5001, non-root: the reference behaviour. */
export const containerUser: Probe = {
  id: "container.user",
  async run({ ws }) {
    const out = await execInWorkspace(ws, ["id"]);
    const uid = Number(/uid=(\d+)/.exec(out.stdout)?.[1] ?? Number.NaN);
    if (uid === WORKSPACE_UID) return supported(`main container: ${out.stdout.trim()}`);
    return unsupported(`want uid ${WORKSPACE_UID} (non-root); ${describeExec("id", out)}`);
  },
};
