import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gitlab } from "@gitbeaker/rest";
import { describe, expect, it } from "vitest";
import { gitlabService } from "../../src/sim/gitlab/service.ts";

describe("sim up's GitLab service", () => {
  it("starts the simulator, registers a runner per executor and architecture, and runs the shell runner", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "wsparity-sim-gitlab-"));
    const started = await gitlabService.start({
      stateDir,
      kubelet: "process",
      env: {},
      handle: () => {
        throw new Error("no other service here");
      },
    });
    try {
      const { env } = started;
      expect(Object.keys(env).sort()).toEqual([
        "GITLAB_TOKEN",
        "GITLAB_URL",
        "RUNNERS_RUNNING",
        "RUNNER_TOKEN_DOCKER_AMD64",
        "RUNNER_TOKEN_DOCKER_ARM64",
        "RUNNER_TOKEN_KUBERNETES_AMD64",
        "RUNNER_TOKEN_KUBERNETES_ARM64",
        "RUNNER_TOKEN_SHELL_AMD64",
      ]);
      expect(env.RUNNER_TOKEN_SHELL_AMD64).toMatch(/^glrt-/);
      // The sim tier's settings list only what runs: the process kubelet runs no docker or kubernetes runner here.
      expect(env.RUNNERS_RUNNING).toBe("shell-amd64");
      const api = new Gitlab({ host: env.GITLAB_URL!, token: env.GITLAB_TOKEN! });
      const project = await api.Projects.create({ name: "via-sim-up" });
      const config =
        "job:\n  tags: [wsparity, executor-shell, arch-amd64]\n  script: [echo ran by the sim up runner]\n";
      await api.Commits.create(project.id, "main", "ci [skip ci]", [
        { action: "create", filePath: ".gitlab-ci.yml", content: config },
      ]);
      const pipeline = await api.Pipelines.create(project.id, "main");
      let status = "";
      for (let i = 0; i < 200 && !["success", "failed"].includes(status); i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await api.Pipelines.show(project.id, pipeline.id)).status as string;
      }
      expect(status).toBe("success");
      expect(started.usage.join("\n")).toContain("runner shell/amd64: running in this process");
    } finally {
      await started.stop();
    }
  });
});
