// End to end on the docker tier: a workspace created through gitbeaker runs as a docker-executor job or a
// kubernetes-executor pod (on the simulator's docker kubelet), amd64 and arm64 through QEMU; its agent,
// brought by the tools service, dials the tunnel and the workspace's endpoint answers through the tunnel
// URL. A graceful stop ends the job, which saves the volume's cache and frees its containers or pod; the
// restart is a new pipeline whose volume has the file back.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LaunchOptions, WorkspaceLauncher } from "../../src/ci/index.ts";
import { hostAddressForContainers } from "../../src/containers/index.ts";
import { DockerExecutor, type Executor, KubernetesExecutor } from "../../src/runner/index.ts";
import { type KubernetesSim, startKubernetesSim } from "../../src/sim/kubernetes/index.ts";
import { type StartedTunnelServer, TunnelServerBuilder } from "../../src/tunnel/index.ts";
import { container, workspace } from "../ci/spec-fixtures.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "../containers/docker-available.ts";
import { baseEndpoint } from "../support/spec.ts";
import { type SimTier, startSimTier, waitFor } from "./helpers.ts";

const docker = await dockerForTests();
const stops: (() => Promise<void>)[] = [];
let tunnel: StartedTunnelServer;
const EDITOR_PORT = 60001;

const serve = (text: string, port: number) =>
  `require('http').createServer((q, s) => s.end(${text})).listen(${port}, '127.0.0.1')`;

const spec = workspace({
  name: "container-e2e",
  containers: [
    container("tooling", {
      main: true,
      image: "node:20",
      attributes: { overrideCommand: false },
      command: ["node", "-e", serve("'hello from ' + process.arch", 3000)],
      endpoints: [baseEndpoint("web", 3000)],
      volumeMounts: [{ name: "data", path: "/data" }],
    }),
    // On the kubernetes executor a sidecar shares the job's network, as in a Kubernetes workspace.
    container("sidecar", {
      image: "node:20",
      command: ["node", "-e", serve("'sidecar'", 3100)],
      endpoints: [baseEndpoint("side", 3100)],
    }),
  ],
  volumes: [{ name: "data", size: "1Gi", ephemeral: false }],
});

beforeAll(async () => {
  if (!docker) return;
  // Containers reach the tunnel on the host's bridge address.
  tunnel = await new TunnelServerBuilder()
    .withDomain("localtest")
    .withAgentListener({ port: 0, host: await hostAddressForContainers() })
    .start();
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await tunnel?.stop();
});

type Arch = "amd64" | "arm64";

interface Cell {
  executor: Executor;
  /** What the job leaves running: container ids or pod names, empty once freed. */
  leftovers(jobId: number): Promise<string[]>;
}

async function dockerCell(arch: Arch): Promise<Cell> {
  return {
    executor: new DockerExecutor(arch),
    leftovers: async (jobId) =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=io.wsparity.ci-job=${jobId}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean),
  };
}

async function kubernetesCell(arch: Arch): Promise<Cell> {
  const stateDir = mkdtempSync(join(tmpdir(), "wsparity-k8s-e2e-"));
  const cluster: KubernetesSim = await startKubernetesSim({ stateDir, kubelet: "docker", nodeArch: arch });
  stops.push(async () => {
    await cluster.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const kc = cluster.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  return {
    executor: new KubernetesExecutor(kc, { namespace: "wsparity-ci", arch, runnerName: `e2e-${arch}` }),
    leftovers: async (jobId) =>
      (
        await core.listNamespacedPod({
          namespace: "wsparity-ci",
          labelSelector: `io.wsparity.ci-job=${jobId}`,
        })
      ).items.map((p) => p.metadata!.name!),
  };
}

const cells = [
  ["docker", "amd64", dockerCell],
  ["docker", "arm64", dockerCell],
  ["kubernetes", "amd64", kubernetesCell],
  ["kubernetes", "arm64", kubernetesCell],
] as const;

describe.skipIf(!docker).each(cells)(
  `a CI-path workspace on the %s executor (%s)${docker ? "" : ` [skipped: ${NO_DOCKER_ENGINE}]`}`,
  (executorName, arch, make) => {
    it("answers through the tunnel URL; a graceful stop frees it and keeps its volume for the restart", async () => {
      const cell = await make(arch);
      const tier: SimTier = await startSimTier(cell.executor, [
        "wsparity",
        `executor-${executorName}`,
        `arch-${arch}`,
      ]);
      stops.push(() => tier.stop());
      const project = await tier.api.Projects.create({
        name: `workspace-${executorName}-${arch}`,
        initializeWithReadme: true,
      });
      const launcher = new WorkspaceLauncher(tier.api, project.id);
      const name = `${executorName.slice(0, 3)}-${arch}-${randomBytes(2).toString("hex")}`;
      const agentToken = randomBytes(24).toString("base64url");
      const userToken = randomBytes(18).toString("base64url");
      tunnel.workspaces.add({ workspace: name, agentToken, userTokens: [userToken] });
      const options: LaunchOptions = {
        executor: executorName,
        arch,
        workspace: name,
        tunnelUrl: tunnel.agentUrl!,
        agentToken,
      };
      let lastAnswer = "no answer yet";
      const answer = (port: number, path = "/", init: RequestInit = {}) =>
        waitFor(
          `port ${port} through the tunnel`,
          async () => {
            try {
              const res = await fetch(`${tunnel.userUrl}/-/ws/${name}/${port}${path}`, {
                ...init,
                headers: { authorization: `Bearer ${userToken}`, ...init.headers },
                signal: AbortSignal.timeout(5000),
              });
              const body = await res.text();
              lastAnswer = `${res.status} ${body.slice(0, 200)}`;
              return res.status === 200 ? body : undefined;
            } catch (err) {
              lastAnswer = (err as Error).message;
              return undefined;
            }
          },
          120_000,
        );
      const exec = async (command: string) =>
        JSON.parse(
          await answer(EDITOR_PORT, "/api/exec", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ command }),
          }).catch((err) => {
            throw new Error(`${(err as Error).message} (exec ${command}); last answer: ${lastAnswer}`);
          }),
        ) as { exitCode: number; stdout: string };
      const askAgent = () => tunnel.workspaces.get(name)!.requestStop(5000);

      const first = await launcher.start(spec, options);
      await launcher.waitFor(first, ["running"], 120_000);
      const text = await answer(3000).catch(async (err) => {
        const log = String(await tier.api.Jobs.showLog(project.id, first.jobId)).slice(-2000);
        throw new Error(`${(err as Error).message}; last answer: ${lastAnswer}\n${log}`);
      });
      expect(text).toBe(`hello from ${arch === "arm64" ? "arm64" : "x64"}`);
      expect((await exec("uname -m")).stdout.trim()).toBe(arch === "arm64" ? "aarch64" : "x86_64");
      if (executorName === "kubernetes") {
        expect(await answer(3100)).toBe("sidecar");
        // IPv4 only: an IPv6 lookup finds no line in /etc/hosts and goes on to DNS, which egress rules drop.
        expect((await exec("getent ahostsv4 sidecar")).stdout).toMatch(/^127\.0\.0\.1\s/);
      }
      expect((await exec("echo kept-by-the-cache > /data/marker")).exitCode).toBe(0);

      expect(await launcher.stop(first, 60_000, askAgent)).toBe("success");
      expect(String(await tier.api.Jobs.showLog(project.id, first.jobId))).toContain("Created cache");
      await waitFor(
        "the job's containers or pod to go",
        async () => ((await cell.leftovers(first.jobId)).length === 0 ? true : undefined),
        60_000,
      );

      const second = await launcher.restart(first, spec, options, askAgent);
      expect(second.pipelineId).not.toBe(first.pipelineId);
      await launcher.waitFor(second, ["running"], 120_000);
      expect((await exec("cat /data/marker")).stdout.trim()).toBe("kept-by-the-cache");
      expect(await launcher.stop(second, 60_000)).toBe("canceled");
      await waitFor(
        "the restarted job's containers or pod to go",
        async () => ((await cell.leftovers(second.jobId)).length === 0 ? true : undefined),
        60_000,
      );
    });
  },
);
