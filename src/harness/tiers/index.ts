import { engineAddress, probeEngine } from "../../containers/engine-probe.ts";
import type { Tier } from "../../report/model.ts";
import type { TierOptions } from "../../tier/local.ts";
import type { TierSettings } from "../../tier/settings.ts";
import { UsageError } from "../../util/errors.ts";
import type { TierSetup } from "../run.ts";
import { tierFromSettings } from "./from-settings.ts";

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
      return localTier("sim", options);
    case "docker": {
      const engine = await probeEngine();
      if (engine.state === "absent")
        throw new UsageError(
          `${engine.reason}: run npm run setup:docker && npm run images:build, or use --tier sim`,
        );
      if (engine.state === "stuck")
        return brokenTier("docker", `${engine.reason}; check dockerd (or DOCKER_HOST), or use --tier sim`);
      return localTier("docker", options);
    }
    case "live":
      throw new UsageError(
        "the live tier runs against a GitLab that is already up: give its settings with --settings FILE (wsparity live init writes them)",
      );
  }
}

/** The sim and docker tiers: their environment started here, then the harness reads its settings. */
async function localTier(tier: "sim" | "docker", options: TierOptions): Promise<TierSetup> {
  const local = await (await import("../../tier/local.ts")).startLocalTier(tier, options);
  try {
    return await tierFromSettings(local.settings, {
      ...(local.imageFor ? { imageFor: local.imageFor } : {}),
      environment: local.environment,
      close: local.close,
      log: options.log,
    });
  } catch (err) {
    await local.close();
    throw err;
  }
}

/** A tier already running elsewhere (sim up, the live tier), as its settings file describes it. */
export async function tierFromSettingsFile(
  settings: TierSettings,
  file: string,
  log: (line: string) => void,
): Promise<TierSetup> {
  return tierFromSettings(settings, {
    environment: () => ({
      settings: file,
      gitlab: { api: settings.gitlab.url, project: settings.gitlab.project },
      kubernetes: { agents: settings.kubernetes.agents },
      runners: settings.ci.runners.map(({ agentUrl: _, ...r }) => r),
      ...(settings.ci.tunnel
        ? { tunnel: { users: settings.ci.tunnel.url, domain: settings.ci.tunnelDomain } }
        : {}),
    }),
    close: async () => {},
    log,
  });
}
