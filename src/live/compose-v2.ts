// Compose v2 through testcontainers' DockerComposeEnvironment: per-service waits with GitLab's long first boot,
// Ryuk off (its image cannot be pulled without a registry), and `down` left to the caller so a warm GitLab can stay.
import { basename, dirname } from "node:path";
import { DockerComposeEnvironment, Wait } from "testcontainers";
import type { ComposeClient, ComposeServiceState, exec } from "./compose-client.ts";
import { profileArgs, psByLabel } from "./compose-client.ts";
import type { ComposeUpPlan, ServiceWait } from "./compose-plan.ts";

/** The builder calls `live up` makes, as an interface so a test can see exactly what testcontainers is given. */
export interface ComposeEnvironmentBuilder {
  withProjectName(name: string): this;
  withProfiles(...profiles: string[]): this;
  withEnvironment(env: Record<string, string>): this;
  withAutoCleanup(on: boolean): this;
  withStartupTimeout(ms: number): this;
  withWaitStrategy(containerName: string, strategy: ReturnType<typeof waitStrategy>): this;
}

export function waitStrategy(wait: ServiceWait) {
  if (wait.kind === "http")
    return Wait.forHttp(wait.path, wait.containerPort).forStatusCode(200).withStartupTimeout(wait.timeoutMs);
  if (wait.kind === "healthy") return Wait.forHealthCheck().withStartupTimeout(wait.timeoutMs);
  return Wait.forListeningPorts().withStartupTimeout(wait.timeoutMs);
}

/** Applies the plan: compose v2 names a service's first container `<service>-1`, which is what waits are keyed by. */
export function configureEnvironment<B extends ComposeEnvironmentBuilder>(
  builder: B,
  plan: ComposeUpPlan,
): B {
  builder
    .withProjectName(plan.projectName)
    .withProfiles(...plan.profiles)
    .withEnvironment(plan.env)
    .withAutoCleanup(false)
    .withStartupTimeout(plan.startupTimeoutMs);
  for (const wait of plan.waits) builder.withWaitStrategy(`${wait.service}-1`, waitStrategy(wait));
  return builder;
}

export class TestcontainersCompose implements ComposeClient {
  readonly implementation = "compose-v2" as const;
  readonly describe: string;

  constructor(
    version: string,
    private readonly sh: typeof exec,
  ) {
    this.describe = `docker compose ${version} (through testcontainers' DockerComposeEnvironment)`;
  }

  async up(plan: ComposeUpPlan, onProgress: (line: string) => void): Promise<void> {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
    const environment = configureEnvironment(
      new DockerComposeEnvironment(dirname(plan.file), basename(plan.file)),
      plan,
    );
    onProgress(`waiting for ${plan.waits.length} services (testcontainers)`);
    await environment.up(plan.services);
  }

  async run(
    plan: ComposeUpPlan,
    service: string,
    profile: string,
  ): Promise<{ status: number; output: string }> {
    const r = this.sh(
      "docker",
      ["compose", "-p", plan.projectName, "-f", plan.file, ...profileArgs([profile]), "run", "--rm", service],
      {
        env: plan.env,
      },
    );
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  async ps(plan: Pick<ComposeUpPlan, "file" | "projectName">): Promise<ComposeServiceState[]> {
    return psByLabel(this.sh, plan.projectName);
  }

  async down(
    plan: Pick<ComposeUpPlan, "file" | "projectName" | "profiles">,
    opts: { volumes: boolean },
  ): Promise<void> {
    const args = [
      "compose",
      "-p",
      plan.projectName,
      "-f",
      plan.file,
      ...profileArgs(plan.profiles),
      "down",
      "--remove-orphans",
    ];
    const r = this.sh("docker", opts.volumes ? [...args, "-v"] : args);
    if (r.status !== 0) throw new Error(`docker compose down failed (exit ${r.status}):\n${r.stderr.trim()}`);
  }
}
