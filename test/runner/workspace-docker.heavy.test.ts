// End to end on the docker tier: a workspace created through gitbeaker runs as a docker-executor job
// (amd64 and arm64 through QEMU); its agent, brought by the tools service, dials the tunnel and the
// workspace's endpoint answers through the tunnel URL; stop cancels the job and removes its containers.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceLauncher } from "../../src/ci/index.ts";
import { hostAddressForContainers } from "../../src/containers/index.ts";
import { DockerExecutor } from "../../src/runner/index.ts";
import { type StartedTunnelServer, TunnelServerBuilder } from "../../src/tunnel/index.ts";
import { container, workspace } from "../ci/spec-fixtures.ts";
import { dockerForTests } from "../containers/docker-available.ts";
import { type SimTier, startSimTier, waitFor } from "./helpers.ts";

const docker = await dockerForTests();
const tiers: SimTier[] = [];
let tunnel: StartedTunnelServer;

const spec = workspace({
  name: "docker-e2e",
  containers: [
    container("tooling", {
      main: true,
      image: "node:20",
      attributes: { overrideCommand: false },
      command: [
        "node",
        "-e",
        "require('http').createServer((q, s) => s.end('hello from ' + process.arch)).listen(3000, '127.0.0.1')",
      ],
      endpoints: [
        {
          name: "web",
          targetPort: 3000,
          exposure: "public",
          protocol: "http",
          secure: false,
          attributes: {},
        },
      ],
    }),
  ],
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
  for (const tier of tiers) await tier.stop();
  await tunnel?.stop();
});

describe.skipIf(!docker).each(["amd64", "arm64"] as const)(
  "a CI-path workspace on the docker executor (%s)",
  (arch) => {
    it("answers through the tunnel URL, and stop removes its containers", async () => {
      const tier = await startSimTier(new DockerExecutor(arch), [
        "wsparity",
        "executor-docker",
        `arch-${arch}`,
      ]);
      tiers.push(tier);
      const project = await tier.api.Projects.create({ name: `docker-workspace-${arch}` });
      const launcher = new WorkspaceLauncher(tier.api, project.id);
      const name = `dk-${arch}-${randomBytes(2).toString("hex")}`;
      const agentToken = randomBytes(24).toString("base64url");
      const userToken = randomBytes(18).toString("base64url");
      tunnel.workspaces.add({ workspace: name, agentToken, userTokens: [userToken] });
      const launched = await launcher.start(spec, {
        executor: "docker",
        arch,
        workspace: name,
        tunnelUrl: tunnel.agentUrl!,
        agentToken,
      });
      await launcher.waitFor(launched, ["running"], 120_000);
      let lastAnswer = "no answer yet";
      const text = await waitFor(
        "the endpoint through the tunnel",
        async () => {
          try {
            const res = await fetch(`${tunnel.userUrl}/-/ws/${name}/3000/`, {
              headers: { authorization: `Bearer ${userToken}` },
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
      ).catch(async (err) => {
        const log = String(await tier.api.Jobs.showLog(project.id, launched.jobId)).slice(-2000);
        throw new Error(`${(err as Error).message}; last answer: ${lastAnswer}\n${log}`);
      });
      expect(text).toBe(`hello from ${arch === "arm64" ? "arm64" : "x64"}`);
      expect(await launcher.stop(launched)).toBe("canceled");
      await waitFor(
        "the job's containers to go",
        async () => {
          const left = execFileSync(
            "docker",
            ["ps", "-aq", "--filter", `label=io.wsparity.ci-job=${launched.jobId}`],
            { encoding: "utf8" },
          ).trim();
          return left === "" ? true : undefined;
        },
        60_000,
      );
    });
  },
);
