// The kubernetes executor against the Kubernetes simulator's process kubelet (sim tier): one pod per job
// with build, helper and service containers, sources and file variables copied in, services on localhost,
// the cache carried out and back, failure reasons, cancel, overwrite limits, and no pod left behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubernetesExecutor } from "../../src/runner/index.ts";
import { RESOURCE_TYPES } from "../../src/sim/kubernetes/resources.ts";
import { type SimHandle, startSim } from "../sim-kubernetes/sim-fixture.ts";
import {
  firstJob,
  type SimTier,
  spawnRunner,
  startSimTier,
  waitFor,
  waitForJobStatus,
  waitForLog,
} from "./helpers.ts";

const NAMESPACE = "ci-test";
const POD = RESOURCE_TYPES.find((r) => r.kind === "Pod")!;
let cluster: SimHandle;
let tier: SimTier;
let projectId: number;
let core: CoreV1Api;

const SERVER =
  "require('http').createServer((q, s) => s.end('pong from ' + process.env.SERVICE_NAME)).listen(8080)";
const CONFIG = `stages: [run]
services-and-cache:
  stage: run
  tags: [k8s-test]
  rules: [{ if: $CASE == "services" }]
  image: { name: "wsparity/base:amd64", entrypoint: [""] }
  services:
    - name: "wsparity/node:amd64"
      alias: peer
      entrypoint: ["node", "-e", "${SERVER}"]
      variables: { SERVICE_NAME: "the peer" }
  variables:
    KUBERNETES_MEMORY_LIMIT: 512Mi
  script:
    - cat README.md
    - pwd
    - for i in $(seq 1 50); do node -e "fetch('http://127.0.0.1:8080').then(r => r.text()).then(t => { console.log(t); process.exit(0) }, () => process.exit(1))" && break; sleep 0.2; done
    - cat "$SECRET_FILE"
    - getent hosts peer
    - mkdir -p vol && echo "run $CI_PIPELINE_ID" >> vol/history && cat vol/history
  cache: { key: k8s-test, paths: [vol/], when: always }
fails:
  stage: run
  tags: [k8s-test]
  rules: [{ if: $CASE == "fails" }]
  script: ["echo about to fail", "exit 7"]
slow:
  stage: run
  tags: [k8s-test]
  rules: [{ if: $CASE == "slow" }]
  script: ["sleep 3001 &", "echo started; sleep 600"]
  after_script: ["echo after_script ran for $CI_JOB_ID"]
greedy:
  stage: run
  tags: [k8s-test]
  rules: [{ if: $CASE == "greedy" }]
  variables: { KUBERNETES_MEMORY_LIMIT: 64Gi }
  script: ["echo should not run"]
`;

const podsOfJob = async (jobId: number, namespace = NAMESPACE) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `io.wsparity.ci-job=${jobId}` })).items;

beforeAll(async () => {
  cluster = await startSim();
  core = cluster.kc.makeApiClient(CoreV1Api);
  const executor = new KubernetesExecutor(cluster.kc, {
    namespace: NAMESPACE,
    arch: "amd64",
    runnerName: "k8s-test-runner",
    nodeSelector: {},
    overwriteMaxAllowed: { memory_limit: "8Gi" },
  });
  tier = await startSimTier(executor, ["k8s-test"]);
  const project = await tier.api.Projects.create({ name: "k8s-project", initializeWithReadme: true });
  projectId = project.id;
  await tier.api.Commits.create(projectId, "main", "CI [skip ci]", [
    { action: "create", filePath: ".gitlab-ci.yml", content: CONFIG },
  ]);
}, 60_000);
afterAll(async () => {
  await tier?.stop();
  await cluster?.stop();
});

async function run(
  testCase: string,
  extra: { key: string; value: string; variable_type?: "file" | "env_var" }[] = [],
) {
  const pipeline = await tier.api.Pipelines.create(projectId, "main", {
    variables: [{ key: "CASE", value: testCase }, ...extra],
  });
  return firstJob(tier, projectId, pipeline.id);
}

describe("kubernetes executor on the sim tier", () => {
  it("runs the job in a pod: sources and file variables copied in, a service on localhost, the cache kept", async () => {
    const pods: V1Pod[] = [];
    const unsubscribe = cluster.sim.store.onChange(POD, (e) => {
      if (e.type === "ADDED") pods.push(e.object as V1Pod);
    });
    const first = await run("services", [
      { key: "SECRET_FILE", value: "file-content-42", variable_type: "file" },
    ]);
    const done = await waitForJobStatus(tier, projectId, first.id, ["success", "failed"], 60_000);
    const log = String(await tier.api.Jobs.showLog(projectId, first.id));
    expect(done.status, log).toBe("success");
    expect(log).toContain("# k8s-project");
    expect(log).toContain("/builds/root/k8s-project");
    expect(log).toContain("pong from the peer");
    expect(log).toMatch(/127\.0\.0\.1\s+peer/);
    expect(log).toContain("file-content-42");
    unsubscribe();
    expect(pods).toHaveLength(1);
    const spec = pods[0]!.spec!;
    expect(spec.containers.map((c) => c.name)).toEqual(["build", "helper", "svc-0"]);
    expect(spec.containers[0]!.resources?.limits).toEqual({ memory: "512Mi" });
    expect(spec.hostAliases).toEqual([{ ip: "127.0.0.1", hostnames: ["peer"] }]);
    expect(await podsOfJob(first.id)).toEqual([]);

    const second = await run("services", [{ key: "SECRET_FILE", value: "x", variable_type: "file" }]);
    await waitForJobStatus(tier, projectId, second.id, ["success"], 60_000);
    expect(String(await tier.api.Jobs.showLog(projectId, second.id))).toMatch(/run \d+\nrun \d+/);
  }, 120_000);

  it("reports a failing script as failed with its exit code", async () => {
    const job = await run("fails");
    const done = await waitForJobStatus(tier, projectId, job.id, ["success", "failed"], 60_000);
    expect([done.status, done.failure_reason]).toEqual(["failed", "script_failure"]);
    expect(String(await tier.api.Jobs.showLog(projectId, job.id))).toContain("exit code 7");
  }, 90_000);

  it("cancels a running job: after_script runs in the pod, then the pod is deleted", async () => {
    const job = await run("slow");
    await waitForLog(tier, projectId, job.id, "started", 60_000);
    await tier.api.Jobs.cancel(projectId, job.id);
    await waitForJobStatus(tier, projectId, job.id, ["canceled"], 60_000);
    expect(String(await tier.api.Jobs.showLog(projectId, job.id))).toContain(
      `after_script ran for ${job.id}`,
    );
    expect(await podsOfJob(job.id)).toEqual([]);
  }, 90_000);

  it("fails the job with the reason when its pod goes away", async () => {
    const job = await run("slow");
    await waitForLog(tier, projectId, job.id, "started", 60_000);
    const [pod] = await podsOfJob(job.id);
    await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace: NAMESPACE });
    const done = await waitForJobStatus(tier, projectId, job.id, ["failed", "success"], 60_000);
    expect([done.status, done.failure_reason]).toEqual(["failed", "runner_system_failure"]);
    expect(String(await tier.api.Jobs.showLog(projectId, job.id))).toMatch(
      /was deleted|build container stopped/,
    );
  }, 90_000);

  it("refuses a resource overwrite above the runner's maximum, naming both", async () => {
    const job = await run("greedy");
    const done = await waitForJobStatus(tier, projectId, job.id, ["failed", "success"], 60_000);
    expect(done.status).toBe("failed");
    const log = String(await tier.api.Jobs.showLog(projectId, job.id));
    expect(log).toContain(
      "KUBERNETES_MEMORY_LIMIT=64Gi is more than the runner allows (memory_limit_overwrite_max_allowed = 8Gi)",
    );
    expect(log).not.toContain("should not run");
    expect(await podsOfJob(job.id)).toEqual([]);
  }, 60_000);
});

describe("a killed kubernetes runner process", () => {
  it("leaves a pod that the next runner from the same config removes when it starts", async () => {
    const registered = await tier.api.Users.createCIRunner("instance_type", { tagList: ["k8s-test"] });
    const stateDir = mkdtempSync(join(tmpdir(), "wsparity-k8s-runner-"));
    const startRunner = () =>
      spawnRunner("runners/kubernetes-amd64.toml", tier.sim.url, registered.token as string, {
        WSPARITY_STATE_DIR: stateDir,
        KUBECONFIG: cluster.sim.kubeconfigPath,
      });
    // Only the process runner may take this job.
    await tier.runner.stop();
    const first = startRunner();
    try {
      await waitFor(
        "the runner to poll",
        async () => (first.output().includes("waiting for jobs") ? true : undefined),
        60_000,
      );
      const job = await run("slow");
      await waitForLog(tier, projectId, job.id, "started", 60_000).catch((err) => {
        throw new Error(`${(err as Error).message}\nrunner said:\n${first.output()}`);
      });
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      expect(await podsOfJob(job.id, "wsparity-ci")).toHaveLength(1);
      await tier.api.Jobs.cancel(projectId, job.id);
      const second = startRunner();
      await waitFor(
        "the leftover pod to go",
        async () => ((await podsOfJob(job.id, "wsparity-ci")).length === 0 ? true : undefined),
        60_000,
      );
      await waitFor(
        "the runner to say what it removed",
        async () =>
          /removed what an earlier runner process left: .*pod wsparity-ci\//.test(second.output())
            ? true
            : undefined,
        30_000,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}; runner said:\n${second.output()}`);
      });
      second.child.kill("SIGINT");
      expect(await new Promise((r) => second.child.once("exit", r))).toBe(0);
    } finally {
      if (first.child.exitCode === null) first.child.kill("SIGKILL");
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 180_000);
});
