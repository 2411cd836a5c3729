// Before anything starts: every prerequisite of the live tier that is missing, each with how to get it.
// `live up` exits 2 when the list is not empty; nothing is started half-way.
import { existsSync, readFileSync } from "node:fs";
import { detectCompose, exec } from "./compose-client.ts";
import { type ComposeFile, servicesOf } from "./compose-file.ts";

export interface Missing {
  what: string;
  how: string;
}

/** What the checks read from the machine; a test replaces it to see each message. */
export interface Machine {
  exec: typeof exec;
  exists(path: string): boolean;
  read(path: string): string;
}

export const thisMachine: Machine = {
  exec,
  exists: existsSync,
  read: (path) => readFileSync(path, "utf8"),
};

export interface PreflightInput {
  compose: ComposeFile;
  profile: string;
  licenceFile: string | undefined;
  /** Architectures the run will cover: arm64 needs QEMU binfmt on an amd64 host. */
  arches: string[];
}

const BINFMT_ARM64 = "/proc/sys/fs/binfmt_misc/qemu-aarch64";

export function preflight(input: PreflightInput, machine: Machine = thisMachine): Missing[] {
  const missing: Missing[] = [];
  if (!detectCompose(machine.exec))
    missing.push({
      what: "Docker Compose",
      how: "install the compose v2 plugin, or Debian's docker-compose 1.29 (apt-get install docker-compose; npm run setup:docker does it)",
    });
  const engine = machine.exec("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (engine.status !== 0) {
    missing.push({
      what: "a Docker engine",
      how: "nothing answers on the Docker socket: run npm run setup:docker (or start dockerd)",
    });
    return missing;
  }
  for (const image of new Set(servicesOf(input.compose, input.profile).map((s) => s.image))) {
    if (machine.exec("docker", ["image", "inspect", "--format", "{{.Id}}", image]).status === 0) continue;
    missing.push(
      image.startsWith("wsparity/")
        ? { what: `image ${image}`, how: "build the project's images: npm run images:build" }
        : {
            what: `image ${image}`,
            how: `pull it where a registry is reachable (docker pull ${image}); on a machine without one, docker save it there and docker load it here`,
          },
    );
  }
  if (input.profile === "live") {
    if (!input.licenceFile)
      missing.push({
        what: "a GitLab licence",
        how: "workspaces need GitLab Premium or Ultimate: set WSPARITY_GITLAB_LICENSE (or --license) to a .gitlab-license file",
      });
    else if (!machine.exists(input.licenceFile))
      missing.push({
        what: `the licence file ${input.licenceFile}`,
        how: "it does not exist: point WSPARITY_GITLAB_LICENSE (or --license) at your .gitlab-license file",
      });
  }
  if (input.arches.includes("arm64") && !binfmtEnabled(machine))
    missing.push({
      what: "QEMU binfmt for arm64",
      how: `${BINFMT_ARM64} is not registered and enabled: npm run setup:docker registers it (Debian's qemu-user-static), or run without --arch arm64`,
    });
  return missing;
}

function binfmtEnabled(machine: Machine): boolean {
  if (!machine.exists(BINFMT_ARM64)) return false;
  return machine.read(BINFMT_ARM64).split("\n")[0]?.trim() === "enabled";
}

/** GitLab releases whose GraphQL API has what the harness sends (projectRef, workspaceVariables: 18.0). */
export const OLDEST_GITLAB = { major: 18, minor: 0 };

export function gitlabTooOld(version: string): Missing | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m)
    return {
      what: `a GitLab version the harness knows`,
      how: `GitLab reports "${version}"; use 18.0 or newer`,
    };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > OLDEST_GITLAB.major || (major === OLDEST_GITLAB.major && minor >= OLDEST_GITLAB.minor))
    return undefined;
  return {
    what: `GitLab ${OLDEST_GITLAB.major}.${OLDEST_GITLAB.minor} or newer`,
    how: `this GitLab is ${version}: workspaceCreate's projectRef and workspaceVariables arrived in 17.8 and 18.0; upgrade it`,
  };
}

export function formatMissing(missing: Missing[]): string {
  return [
    `live tier preflight: ${missing.length} prerequisite${missing.length === 1 ? "" : "s"} missing; nothing was started`,
    ...missing.map((m) => `  - ${m.what}: ${m.how}`),
  ].join("\n");
}
