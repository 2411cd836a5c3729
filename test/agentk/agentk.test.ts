// `wsparity agentk` as a process between the GitLab simulator and the Kubernetes simulator: GraphQL drives the
// workspace, agentk applies what Rails' reconcile returns, and kubectl (nobody here wrote it) looks at the cluster.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { processKubeletUnavailable } from "../../src/sim/kubernetes/kubelet/process-backend.ts";
import { type SimHandle, startSim } from "../sim-kubernetes/sim-fixture.ts";
import { type PreparedGitLab, prepareGitLab } from "../support/remote-development.ts";
import { describeUnless } from "../support/skip.ts";

const run = promisify(execFile);
const missing = processKubeletUnavailable();
if (missing && process.env.CI) throw new Error(`CI must run the agentk test: ${missing}`);

const MINIMAL = `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes:
      gl/inject-editor: true
    container:
      image: registry.example.test/tooling:1
      memoryLimit: 256Mi
`;

describeUnless(missing)("wsparity agentk", () => {
  let gl: PreparedGitLab;
  let k8s: SimHandle;
  let agentk: ChildProcess;
  let agentkLog = "";
  let id = "";
  let name = "";
  let namespace = "";
  const kubectl = async (...args: string[]) =>
    (await run("kubectl", ["--kubeconfig", k8s.sim.kubeconfigPath, ...args])).stdout;
  const state = async () =>
    (
      await gl.graphql(
        `query($id: RemoteDevelopmentWorkspaceID!) { workspace(id: $id) { actualState desiredState } }`,
        { id },
      )
    ).body.data.workspace as { actualState: string; desiredState: string };
  const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agentk said:\n${agentkLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    gl = await prepareGitLab(
      { remoteDevelopment: { partialReconciliationIntervalSeconds: 1 } },
      { ".devfile.yaml": MINIMAL },
    );
    k8s = await startSim();
    const tokenFile = join(k8s.stateDir, "agent-token");
    writeFileSync(tokenFile, gl.agentToken, { mode: 0o600 });
    agentk = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "agentk",
        "--gitlab-url",
        gl.url,
        "--token-file",
        tokenFile,
        "--kubeconfig",
        k8s.sim.kubeconfigPath,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    agentk.stderr!.on("data", (b: Buffer) => {
      agentkLog += b.toString();
    });
    await until("agentk to connect", async () => agentkLog.includes("connected as agent"));
    await gl.graphql(
      `mutation($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) { namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors } }`,
      {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
          namespaceId: "gid://gitlab/Namespace/1",
        },
      },
    );
    // agentk's first full reconcile told Rails the agent's config; a workspace can now be created.
    await until("Rails to learn the agent's config", async () => {
      const created = await gl.graphql(
        `mutation($input: WorkspaceCreateInput!) { workspaceCreate(input: $input) { errors workspace { id name namespace } } }`,
        {
          input: {
            clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
            projectId: `gid://gitlab/Project/${gl.projectId}`,
            desiredState: "Running",
            projectRef: "main",
            devfilePath: ".devfile.yaml",
          },
        },
      );
      const ws = created.body.data?.workspaceCreate?.workspace;
      if (ws) ({ id, name, namespace } = ws);
      return Boolean(ws);
    });
  }, 60_000);

  afterAll(async () => {
    agentk?.kill("SIGTERM");
    await new Promise((r) => agentk?.once("exit", r));
    await k8s?.stop();
    await gl?.sim.stop();
  });

  it("applies the workspace with agentk's field manager and reports it Running", async () => {
    await until("the workspace to run", async () => (await state()).actualState === "Running");
    const deployment = JSON.parse(
      await kubectl("get", "deployment", name, "-n", namespace, "-o", "json", "--show-managed-fields"),
    );
    expect(
      deployment.metadata.managedFields.map((f: { manager: string; operation: string }) => [
        f.manager,
        f.operation,
      ]),
    ).toContainEqual(["agentk", "Apply"]);
    const inventory = JSON.parse(
      await kubectl("get", "configmap", `${name}-workspace-inventory`, "-n", namespace, "-o", "json"),
    );
    expect(Object.keys(inventory.data)).toContain(`${namespace}_${name}_apps_Deployment`);
  }, 40_000);

  it("brings back a Deployment deleted by hand within one partial reconcile", async () => {
    await kubectl("delete", "deployment", name, "-n", namespace, "--wait=false");
    const deletedAt = Date.now();
    await until("the Deployment to come back", async () => {
      const out = await kubectl("get", "deployments", "-n", namespace, "-o", "name");
      return out.includes(`deployment.apps/${name}`);
    });
    // One partial interval (1 s) to notice, plus one to apply what Rails sent back.
    expect(Date.now() - deletedAt).toBeLessThan(5_000);
    await until("the workspace to run again", async () => (await state()).actualState === "Running");
  }, 40_000);

  it("scales to zero when Stopped and removes everything when Terminated", async () => {
    const update = (desiredState: string) =>
      gl.graphql(`mutation($input: WorkspaceUpdateInput!) { workspaceUpdate(input: $input) { errors } }`, {
        input: { id, desiredState },
      });
    await update("Stopped");
    await until("the workspace to stop", async () => (await state()).actualState === "Stopped");
    expect(
      (await kubectl("get", "deployment", name, "-n", namespace, "-o", "jsonpath={.spec.replicas}")).trim(),
    ).toBe("0");
    expect((await kubectl("get", "pods", "-n", namespace, "-o", "name")).trim()).toBe("");
    await update("Terminated");
    await until("the workspace to be terminated", async () => (await state()).actualState === "Terminated");
    for (const kind of [
      "deployments",
      "services",
      "configmaps",
      "secrets",
      "persistentvolumeclaims",
      "serviceaccounts",
    ])
      expect((await kubectl("get", kind, "-n", namespace, "-o", "name")).trim(), kind).toBe("");
  }, 60_000);
});
