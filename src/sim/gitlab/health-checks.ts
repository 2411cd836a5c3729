// GitLab's health check endpoints (doc/administration/monitoring/health_check.md): what a compose
// healthcheck, a load balancer or Kubernetes probes ask. The simulator has no database, Redis or Gitaly to
// check, so readiness reports the one check it can make: this process answers requests.

import type { Router } from "./http.ts";

export function registerHealthChecks(router: Router): void {
  router
    .on("GET", "/-/health", () => ({ status: 200, raw: "GitLab OK", contentType: "text/plain" }))
    .on("GET", "/-/liveness", () => ({ status: 200, body: { status: "ok" } }))
    .on("GET", "/-/readiness", () => ({
      status: 200,
      body: { status: "ok", master_check: [{ status: "ok" }] },
    }));
}
