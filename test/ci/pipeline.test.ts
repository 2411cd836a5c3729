// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash and devfile ${VAR} syntax, not JS templates
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generatePipeline, validateCiConfig, WORKSPACE_SCRIPT } from "../../src/ci/index.ts";
import { loadDevfile } from "../../src/devfile/index.ts";
import { container, nodejsMongo, workspace } from "./spec-fixtures.ts";

type Job = Record<string, unknown> & {
  variables: Record<string, unknown>;
  services: Record<string, unknown>[];
};
const jobOf = (config: Record<string, unknown>) => config.workspace as Job;

describe("generatePipeline", () => {
  it("maps the main container to the job image and sidecars to services with alias, entrypoint and command", () => {
    const spec = nodejsMongo();
    spec.containers[1]!.command = ["mongod"];
    spec.containers[1]!.args = ["--bind_ip_all"];
    const { config, yaml } = generatePipeline(spec, { executor: "docker", arch: "amd64" });
    expect(parse(yaml)).toEqual(config);
    const job = jobOf(config);
    expect(job.image).toEqual({ name: "registry.access.redhat.com/ubi8/nodejs-18:1-32", entrypoint: [""] });
    expect(job.services[0]).toMatchObject({ alias: "wsparity-tools" });
    expect(job.services[1]).toEqual({
      name: "mongo:7",
      alias: "mongo",
      entrypoint: ["mongod"],
      command: ["--bind_ip_all"],
      variables: { MONGO_INITDB_DATABASE: "demo" },
    });
    expect(job.tags).toEqual(["wsparity", "executor-docker", "arch-amd64"]);
    expect(job.interruptible).toBe(true);
    expect(job.timeout).toBe("24h");
    expect(job.cache).toEqual({
      key: "wsparity-workspace-nodejs-mongodb",
      paths: [".wsparity/volumes/"],
      when: "always",
    });
  });

  it("passes env values literally: a $ reference is not expanded by GitLab", () => {
    const job = jobOf(generatePipeline(nodejsMongo(), { executor: "docker", arch: "amd64" }).config);
    expect(job.variables.DEBUG_PORT).toBe("5858");
    expect(job.variables.GREETING).toEqual({ value: 'it\'s $HOME "quoted"', expand: false });
  });

  it("keeps ephemeral volumes out of the cached folder", async () => {
    const loaded = await loadDevfile("scenarios/devfiles/volumes.devfile.yaml");
    if (!loaded.ok) throw new Error("the volumes devfile should load");
    const job = jobOf(generatePipeline(loaded.spec, { executor: "docker", arch: "amd64" }).config);
    expect(job.variables.WSPARITY_VOLUMES).toBe("cache=/cache\ndata=/data");
    expect(job.variables.WSPARITY_EPHEMERAL_VOLUMES).toBe("scratch=/scratch");
    expect(job.cache).toMatchObject({ paths: [".wsparity/volumes/"] });
  });

  it("keys the volumes' cache by the workspace id when it has one, so two workspaces of a devfile keep apart", () => {
    const one = jobOf(
      generatePipeline(nodejsMongo(), { executor: "shell", arch: "amd64", workspace: "ws-a" }).config,
    );
    const two = jobOf(
      generatePipeline(nodejsMongo(), { executor: "shell", arch: "amd64", workspace: "ws-b" }).config,
    );
    expect(one.cache).toMatchObject({ key: "wsparity-workspace-ws-a" });
    expect(two.cache).toMatchObject({ key: "wsparity-workspace-ws-b" });
  });

  it("asks for linux/arm64 on the docker executor and tags the architecture", () => {
    const job = jobOf(generatePipeline(nodejsMongo(), { executor: "docker", arch: "arm64" }).config);
    expect(job.image).toMatchObject({ docker: { platform: "linux/arm64" } });
    expect(job.tags).toContain("arch-arm64");
  });

  it("forwards the editor and public endpoints through the tunnel, sidecars only where they share loopback", () => {
    const spec = nodejsMongo();
    spec.containers[1]!.endpoints.push({
      name: "admin",
      targetPort: 8081,
      exposure: "public",
      protocol: "http",
      secure: false,
      attributes: {},
    });
    const job = jobOf(generatePipeline(spec, { executor: "docker", arch: "amd64" }).config);
    expect(job.variables.WSPARITY_PORTS).toBe("60001,8080");
    const kubernetes = jobOf(generatePipeline(spec, { executor: "kubernetes", arch: "amd64" }).config);
    expect(kubernetes.variables.WSPARITY_PORTS).toBe("60001,8080,8081");
  });

  it("records what the shell executor cannot honour: image, services, isolation", () => {
    const { notHonoured } = generatePipeline(nodejsMongo(), { executor: "shell", arch: "amd64" });
    const rows = notHonoured.map((r) => `${r.feature}:${r.status}`);
    expect(rows).toContain("container.image:unsupported");
    expect(rows).toContain("container.multi:unsupported");
    expect(rows).toContain("endpoint.internal:degraded");
    expect(rows).toContain("container.resources:unsupported");
    expect(notHonoured.every((r) => r.executor === "shell" && r.reason.length > 10)).toBe(true);
  });

  it("records that arm64 cannot run on a shell runner of another architecture", () => {
    const { notHonoured } = generatePipeline(workspace(), { executor: "shell", arch: "arm64" });
    expect(notHonoured.find((r) => r.feature === "arch.arm64")?.status).toBe("unsupported");
  });

  it("drops env names a shell cannot export or that shadow GitLab's, and says so", () => {
    const spec = workspace({
      containers: [
        container("tooling", {
          main: true,
          env: [
            { name: "GOOD", value: "1" },
            { name: "BAD-NAME", value: "2" },
            { name: "CI_JOB_TOKEN", value: "3" },
          ],
        }),
      ],
    });
    const { config, notHonoured } = generatePipeline(spec, { executor: "docker", arch: "amd64" });
    const variables = jobOf(config).variables;
    expect(variables.GOOD).toBe("1");
    expect(variables).not.toHaveProperty("BAD-NAME");
    expect(variables).not.toHaveProperty("CI_JOB_TOKEN");
    expect(notHonoured.filter((r) => r.feature === "container.env").map((r) => r.subject)).toEqual([
      'env "BAD-NAME" of component tooling',
      "env CI_JOB_TOKEN of component tooling",
    ]);
  });

  it("skips postStart commands of service components on container executors, keeps them on shell", () => {
    const docker = generatePipeline(nodejsMongo(), { executor: "docker", arch: "amd64" });
    expect(
      String((jobOf(docker.config).variables.WSPARITY_POST_START as { value: string }).value),
    ).not.toContain("mongosh");
    const shell = generatePipeline(nodejsMongo(), { executor: "shell", arch: "amd64" });
    expect(String((jobOf(shell.config).variables.WSPARITY_POST_START as { value: string }).value)).toContain(
      "mongosh",
    );
    expect(shell.notHonoured.find((r) => r.subject === "command seed")?.status).toBe("degraded");
  });

  it("keeps the job script constant whatever the devfile says", () => {
    for (const executor of ["shell", "docker", "kubernetes"] as const) {
      expect(jobOf(generatePipeline(nodejsMongo(), { executor, arch: "amd64" }).config).script).toEqual(
        WORKSPACE_SCRIPT,
      );
    }
  });

  it("produces configurations GitLab's CI schema accepts for every executor and architecture", () => {
    for (const executor of ["shell", "docker", "kubernetes"] as const) {
      for (const arch of ["amd64", "arm64"] as const) {
        const result = validateCiConfig(generatePipeline(nodejsMongo(), { executor, arch }).config);
        expect(result.errors).toEqual([]);
      }
    }
  });

  it("the schema oracle rejects what GitLab rejects", () => {
    expect(validateCiConfig({ job: { script: "x", imagee: "y" } }).valid).toBe(false);
    expect(validateCiConfig({ job: { script: "x", timeout: 5 } }).valid).toBe(false);
  });

  it("runs postStart commands in order, in their working dir, and survives a failing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsparity-ci-"));
    const spec = workspace({
      commands: [
        {
          kind: "exec",
          id: "first",
          component: "tooling",
          commandLine: "pwd > order; echo $WHO >> order",
          workingDir: "${PROJECT_SOURCE}",
          env: [{ name: "WHO", value: "it's me; rm -rf /" }],
          hotReloadCapable: false,
        },
        {
          kind: "exec",
          id: "broken",
          component: "tooling",
          commandLine: "exit 3",
          env: [],
          hotReloadCapable: false,
        },
        {
          kind: "exec",
          id: "last",
          component: "tooling",
          commandLine: "echo last >> order",
          workingDir: "$PROJECT_SOURCE",
          env: [],
          hotReloadCapable: false,
        },
      ],
      events: { preStart: [], postStart: ["first", "broken", "last"], preStop: [], postStop: [] },
    });
    const job = jobOf(generatePipeline(spec, { executor: "shell", arch: "amd64" }).config);
    const script = (job.variables.WSPARITY_POST_START as { value: string }).value;
    const run = spawnSync("bash", ["-c", script], {
      env: { PATH: process.env.PATH, PROJECT_SOURCE: dir },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain("postStart command broken exited 3");
    expect(readFileSync(join(dir, "order"), "utf8")).toBe(`${dir}\nit's me; rm -rf /\nlast\n`);
  });
});
