// Compose v2 through testcontainers' DockerComposeEnvironment: per-service waits with GitLab's long first boot,
// Ryuk off (its image cannot be pulled without a registry), and `down` left to the caller so a warm GitLab can stay.
import { basename, dirname } from "node:path";
import { DockerComposeEnvironment, Wait } from "testcontainers";
import { ComposeCommand, type exec } from "./compose-client.ts";
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

export class TestcontainersCompose extends ComposeCommand {
  readonly implementation = "compose-v2" as const;
  readonly describe: string;

  protected readonly command: [string, ...string[]] = ["docker", "compose"];

  constructor(version: string, sh: typeof exec) {
    super(sh);
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
}
