// What `live up` asks of Compose, as data: the same plan drives testcontainers (compose v2) and docker-compose 1.29,
// and is what `live up --dry-run` prints.
import { type ComposeFile, servicesOf } from "./compose-file.ts";

export const LIVE_PROJECT = "wsparity-live";
/** GitLab's first boot (reconfigure, migrations, licence) takes minutes on 2 cores: gitlab-qa allows 15 and more. */
export const GITLAB_BOOT_TIMEOUT_MS = 20 * 60_000;
const DEFAULT_WAIT_MS = 3 * 60_000;

export type ServiceWait =
  | { service: string; kind: "healthy"; timeoutMs: number }
  | { service: string; kind: "http"; path: string; containerPort: number; timeoutMs: number }
  | { service: string; kind: "running"; timeoutMs: number };

export interface ComposeUpPlan {
  file: string;
  projectName: string;
  profiles: string[];
  /** Variables the compose file interpolates, passed to the compose process. */
  env: Record<string, string>;
  services: string[];
  waits: ServiceWait[];
  /** The longest wait: nothing in `up` may run past it. */
  startupTimeoutMs: number;
}

export function composeUpPlan(
  compose: ComposeFile,
  profile: string,
  env: Record<string, string>,
): ComposeUpPlan {
  const services = servicesOf(compose, profile).filter((s) => !s.oneShot);
  const waits: ServiceWait[] = services.map((s) => {
    const timeoutMs = s.name === "gitlab" ? GITLAB_BOOT_TIMEOUT_MS : DEFAULT_WAIT_MS;
    // GitLab's own HEALTHCHECK can pass before reconfigure renders it; readiness over HTTP is the proof.
    if (s.name === "gitlab")
      return { service: s.name, kind: "http", path: "/-/readiness", containerPort: 8929, timeoutMs };
    return s.healthcheck
      ? { service: s.name, kind: "healthy", timeoutMs }
      : { service: s.name, kind: "running", timeoutMs };
  });
  return {
    file: compose.file,
    projectName: LIVE_PROJECT,
    profiles: [profile],
    env,
    services: services.map((s) => s.name),
    waits,
    startupTimeoutMs: Math.max(DEFAULT_WAIT_MS, ...waits.map((w) => w.timeoutMs)),
  };
}

export function describeWait(w: ServiceWait): string {
  const within = `within ${Math.round(w.timeoutMs / 60_000)} min`;
  if (w.kind === "http")
    return `${w.service}: GET ${w.path} on port ${w.containerPort} answers 200, ${within}`;
  if (w.kind === "healthy") return `${w.service}: its health check passes, ${within}`;
  return `${w.service}: running, ${within}`;
}
