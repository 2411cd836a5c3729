import { request } from "node:http";
import type { Tier } from "../../report/model.ts";
import { UsageError } from "../../util/errors.ts";
import type { TierSetup } from "../run.ts";
import type { TierOptions } from "./local.ts";

const DOCKER_SOCKET = "/var/run/docker.sock";

/** docker where a Docker engine answers on its socket, else sim. */
export function detectTier(): Promise<Tier> {
  return new Promise((resolve) => {
    const req = request({ socketPath: DOCKER_SOCKET, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? "docker" : "sim");
    });
    req.on("error", () => resolve("sim"));
    req.on("timeout", () => {
      req.destroy();
      resolve("sim");
    });
    req.end();
  });
}

export async function createTierSetup(tier: Tier, options: TierOptions): Promise<TierSetup> {
  switch (tier) {
    case "sim":
      return (await import("./local.ts")).startLocalTier("sim", options);
    case "docker":
      if ((await detectTier()) !== "docker") {
        throw new UsageError(
          "no Docker engine answers on /var/run/docker.sock: run npm run setup:docker && npm run images:build, or use --tier sim",
        );
      }
      return (await import("./local.ts")).startLocalTier("docker", options);
    case "live":
      throw new UsageError(
        "the live tier (a real GitLab, gitlab-runner and cluster) is not built yet; use --tier sim",
      );
  }
}
