import { describeExec, execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

export const archArm64: Probe = {
  id: "arch.arm64",
  notApplicable: ({ arch }) =>
    arch === "arm64" ? undefined : "this cell runs amd64; the arm64 cells show this feature",
  async run({ ws }) {
    const out = await execInWorkspace(ws, ["uname", "-m"]);
    const machine = out.stdout.trim();
    return machine === "aarch64"
      ? supported(`uname -m in the main container → ${machine}`)
      : unsupported(`want aarch64; ${describeExec("uname -m", out)}`);
  },
};
