import { mainContainer } from "../../devfile/spec.ts";
import { execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";
import { parseQuantity } from "./quantity.ts";
import { simCannotShow } from "./sim-tier.ts";

// cgroup v2 first, then v1; prints "memory cpu" limits as the kernel enforces them for this container.
const READ_LIMITS = `m=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo unknown); c=$(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || echo unknown) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || echo 100000)"); echo "$m|$c"`;

export const containerResources: Probe = {
  id: "container.resources",
  notApplicable(ctx) {
    const main = mainContainer(ctx.spec);
    if (!main.memoryLimit && !main.cpuLimit) return "the main container declares no memory or cpu limit";
    return simCannotShow("resource limits")(ctx);
  },
  async run({ ws, spec }) {
    const main = mainContainer(spec);
    const out = await execInWorkspace(ws, READ_LIMITS);
    const [memory = "unknown", cpu = "unknown"] = out.stdout.trim().split("|");
    const checks: string[] = [];
    let wrong = 0;
    if (main.memoryLimit) {
      const want = parseQuantity(main.memoryLimit);
      const ok = want !== undefined && Number(memory) === Math.round(want);
      if (!ok) wrong++;
      checks.push(`memory limit ${main.memoryLimit} (${want} bytes): cgroup says ${memory}`);
    }
    if (main.cpuLimit) {
      const want = parseQuantity(main.cpuLimit);
      const [quota, period] = cpu.split(" ");
      const cores =
        quota === "max" || quota === "-1" || quota === "unknown" ? undefined : Number(quota) / Number(period);
      const ok = want !== undefined && cores !== undefined && Math.abs(cores - want) < 0.01;
      if (!ok) wrong++;
      checks.push(
        `cpu limit ${main.cpuLimit}: cgroup cpu.max "${cpu}"${cores === undefined ? "" : ` = ${cores} cores`}`,
      );
    }
    return wrong === 0 ? supported(checks.join("; ")) : unsupported(checks.join("; "));
  },
};
