import { engineAddress, probeEngine } from "../../containers/engine-probe.ts";
import type { Tier } from "../../report/model.ts";
import { UsageError } from "../../util/errors.ts";
import type { TierSetup } from "../run.ts";
import type { TierOptions } from "./local.ts";

/** docker where a Docker engine is there (answering or stuck, so a stuck one is reported), else sim. */
export async function detectTier(): Promise<Tier> {
  return (await probeEngine()).state === "absent" ? "sim" : "docker";
}

/**
 * A tier that cannot run any cell (its engine does not answer): every cell is an error with the reason,
 * and the report is still written.
 */
function brokenTier(tier: Tier, reason: string): TierSetup {
  return {
    tier,
    broken: reason,
    provisioner: () => {
      throw new Error(reason);
    },
    environment: () => ({ docker: { engine: engineAddress(), problem: reason } }),
    close: async () => {},
  };
}

export async function createTierSetup(tier: Tier, options: TierOptions): Promise<TierSetup> {
  switch (tier) {
    case "sim":
      return (await import("./local.ts")).startLocalTier("sim", options);
    case "docker": {
      const engine = await probeEngine();
      if (engine.state === "absent")
        throw new UsageError(
          `${engine.reason}: run npm run setup:docker && npm run images:build, or use --tier sim`,
        );
      if (engine.state === "stuck")
        return brokenTier("docker", `${engine.reason}; check dockerd (or DOCKER_HOST), or use --tier sim`);
      return (await import("./local.ts")).startLocalTier("docker", options);
    }
    case "live":
      throw new UsageError(
        "the live tier (a real GitLab, gitlab-runner and cluster) is not built yet; use --tier sim",
      );
  }
}
