import { describe, expect, it } from "vitest";
import { readComposeFile } from "../../src/live/compose-file.ts";
import { composeUpPlan, GITLAB_BOOT_TIMEOUT_MS } from "../../src/live/compose-plan.ts";
import { type ComposeEnvironmentBuilder, configureEnvironment } from "../../src/live/compose-v2.ts";

/** Records what testcontainers' DockerComposeEnvironment is given. */
class RecordingBuilder implements ComposeEnvironmentBuilder {
  calls: { method: string; args: unknown[] }[] = [];
  private record(method: string, args: unknown[]): this {
    this.calls.push({ method, args });
    return this;
  }
  withProjectName(...args: unknown[]) {
    return this.record("withProjectName", args);
  }
  withProfiles(...args: unknown[]) {
    return this.record("withProfiles", args);
  }
  withEnvironment(...args: unknown[]) {
    return this.record("withEnvironment", args);
  }
  withAutoCleanup(...args: unknown[]) {
    return this.record("withAutoCleanup", args);
  }
  withStartupTimeout(...args: unknown[]) {
    return this.record("withStartupTimeout", args);
  }
  withWaitStrategy(...args: unknown[]) {
    return this.record("withWaitStrategy", args);
  }
  arg(method: string): unknown[] {
    return this.calls.find((c) => c.method === method)?.args ?? [];
  }
}

describe("live up through testcontainers (compose v2)", () => {
  const plan = composeUpPlan(readComposeFile(), "live", {
    WSPARITY_GITLAB_LICENSE: "/licences/ultimate.gitlab-license",
  });
  const builder = configureEnvironment(new RecordingBuilder(), plan);

  it("passes the project, the profile and the environment", () => {
    expect(builder.arg("withProjectName")).toEqual(["wsparity-live"]);
    expect(builder.arg("withProfiles")).toEqual(["live"]);
    expect(builder.arg("withEnvironment")).toEqual([
      { WSPARITY_GITLAB_LICENSE: "/licences/ultimate.gitlab-license" },
    ]);
  });

  it("keeps the stack after up (no Ryuk, down is explicit) and allows GitLab's first boot", () => {
    expect(builder.arg("withAutoCleanup")).toEqual([false]);
    expect(builder.arg("withStartupTimeout")[0]).toBeGreaterThanOrEqual(GITLAB_BOOT_TIMEOUT_MS);
    expect(GITLAB_BOOT_TIMEOUT_MS).toBeGreaterThanOrEqual(15 * 60_000);
  });

  it("keys every wait by compose v2's container name, GitLab's by readiness over HTTP", () => {
    const waits = builder.calls.filter((c) => c.method === "withWaitStrategy").map((c) => c.args);
    expect(waits.map((w) => w[0]).sort()).toEqual(plan.services.map((s) => `${s}-1`).sort());
    const gitlab = waits.find((w) => w[0] === "gitlab-1")?.[1] as {
      path?: string;
      port?: number;
      startupTimeoutMs?: number;
    };
    expect(gitlab).toMatchObject({ path: "/-/readiness", port: 8929 });
    expect(JSON.stringify(gitlab)).toContain(String(GITLAB_BOOT_TIMEOUT_MS));
  });

  it("never waits on one-shot services (testcontainers would skip them silently)", () => {
    expect(plan.services).not.toContain("binfmt");
    expect(plan.services).not.toContain("agentk-install");
  });
});
