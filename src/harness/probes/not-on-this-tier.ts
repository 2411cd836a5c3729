import type { Probe } from "./probe.ts";

// Features no tier of this harness can show yet. Each says why, as the report must; none claims a result.
function cannotShow(id: string, reason: string): Probe {
  return {
    id,
    notApplicable: () => reason,
    run: () => Promise.reject(new Error(`${id} cannot run: ${reason}`)),
  };
}

export const projectSource = cannotShow(
  "project.source",
  "no tier serves a Git repository to clone yet (the GitLab simulator keeps files, not a Git smart-HTTP endpoint)",
);
export const registryPrivate = cannotShow(
  "registry.private",
  "no container registry runs here: images are built locally, so pulling with credentials cannot be shown",
);
export const networkEgressPolicy = cannotShow(
  "network.egress-policy",
  "showing it needs a private-range target the harness creates itself (a network namespace); not built yet",
);
