// The GitLab simulator's workspaces API through GraphQL (as a GraphQL client posts it), the cluster agents
// REST API through @gitbeaker/rest, and Rails' side of agentk's reconcile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GraphqlAnswer,
  graphqlAt,
  type PreparedGitLab,
  prepareGitLab,
} from "../support/remote-development.ts";

const CREATE = `mutation create($input: WorkspaceCreateInput!) {
  workspaceCreate(input: $input) { errors workspace { id name namespace desiredState actualState url projectRef devfilePath } }
}`;
const UPDATE = `mutation update($input: WorkspaceUpdateInput!) {
  workspaceUpdate(input: $input) { errors workspace { id desiredState } }
}`;
const MAP = `mutation map($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) {
  namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors namespaceClusterAgentMapping { clusterAgentId namespaceId } }
}`;
const MINE = `{ currentUser { workspaces { count nodes { id name desiredState actualState url respondedToAgentAt createdAt } } } }`;

const BAD_SCHEMA =
  "schemaVersion: 2.1.0\ncomponents:\n  - name: main\n    attributes: { gl/inject-editor: true }\n    container: { image: alpine }\n";

describe("the GitLab simulator's workspaces API", () => {
  let gl: PreparedGitLab;
  let input: Record<string, unknown>;
  beforeAll(async () => {
    gl = await prepareGitLab(undefined, {
      ".devfile.yaml": (await import("node:fs")).readFileSync(
        "scenarios/devfiles/parity.devfile.yaml",
        "utf8",
      ),
      "bad.devfile.yaml": BAD_SCHEMA,
    });
    input = {
      clusterAgentId: `gid://gitlab/Clusters::Agent/${gl.agentId}`,
      projectId: `gid://gitlab/Project/${gl.projectId}`,
      desiredState: "Running",
      projectRef: "main",
      devfilePath: ".devfile.yaml",
      workspaceVariables: [{ key: "GREETING", value: "hello", variableType: "ENVIRONMENT" }],
    };
  });
  afterAll(() => gl?.sim.stop());

  it("registers agents and their glagent- tokens over REST", async () => {
    const res = await fetch(`${gl.url}/api/v4/projects/${gl.projectId}/cluster_agents`, {
      headers: { "private-token": gl.token },
    });
    const agents = (await res.json()) as { id: number; name: string; config_project: { id: number } }[];
    expect(agents).toEqual([
      expect.objectContaining({
        id: gl.agentId,
        name: "wsparity",
        config_project: expect.objectContaining({ id: gl.projectId }),
      }),
    ]);
    expect(gl.agentToken).toMatch(/^glagent-/);
  });

  it("refuses a workspace until the agent has connected and been mapped, then creates one", async () => {
    const unconnected = await gl.graphql(CREATE, { input });
    // Not mapped comes first: GitLab checks the mapping in the mutation, the agent config in the service.
    expect(unconnected.body.errors?.[0]?.message).toBe(
      "The provided agent provided must be mapped to an ancestor namespace of the workspace's project.",
    );
    const mapped = await gl.graphql(MAP, {
      input: { clusterAgentId: input.clusterAgentId, namespaceId: "gid://gitlab/Namespace/1" },
    });
    expect(mapped.body.data.namespaceCreateRemoteDevelopmentClusterAgentMapping).toEqual({
      errors: [],
      namespaceClusterAgentMapping: {
        clusterAgentId: input.clusterAgentId,
        namespaceId: "gid://gitlab/Namespace/1",
      },
    });
    const notConnected = await gl.graphql(CREATE, { input });
    expect(notConnected.body.data.workspaceCreate).toEqual({
      errors: [
        "Workspace create params validation failed: No WorkspacesAgentConfig found for agent 'wsparity'",
      ],
      workspace: null,
    });
    // agentk's first full reconcile is when Rails learns the agent's config (KAS sends it on connect).
    expect((await gl.reconcile({ update_type: "full", workspace_agent_infos: [] })).status).toBe(201);
    const created = await gl.graphql(CREATE, { input });
    const ws = created.body.data.workspaceCreate.workspace;
    expect(created.body.data.workspaceCreate.errors).toEqual([]);
    expect(ws.id).toMatch(/^gid:\/\/gitlab\/RemoteDevelopment::Workspace\/\d+$/);
    expect(ws.name).toMatch(new RegExp(`^workspace-${gl.agentId}-1-[a-z0-9]{6}$`));
    expect(ws.namespace).toBe(ws.name.replace(/^workspace-/, "gl-rd-ns-"));
    expect(ws).toMatchObject({
      desiredState: "Running",
      actualState: "CreationRequested",
      projectRef: "main",
    });
    expect(ws.url).toBe(`https://60001-${ws.name}.workspaces.localtest/?folder=%2Fprojects%2Fworkspaces`);
  });

  it("answers at least twelve bad requests in GitLab's shapes and changes nothing", async () => {
    const before = await gl.graphql(MINE);
    const existing = before.body.data.currentUser.workspaces.nodes[0];
    const other = await gl.sim.remoteDevelopment; // a second, unmapped agent in the same project
    const unmappedAgent = other.createAgent(gl.sim.store.project(gl.projectId), "unmapped", 1);
    const unlicensed = await prepareGitLab({ remoteDevelopment: { licensed: false } });
    const topLevel = (a: GraphqlAnswer) => a.body.errors?.map((e) => e.message);
    const payload = (a: GraphqlAnswer) =>
      a.body.data?.workspaceCreate?.errors ?? a.body.data?.workspaceUpdate?.errors;
    try {
      const cases: [string, () => Promise<GraphqlAnswer>, (a: GraphqlAnswer) => void][] = [
        [
          "no projectRef",
          () => gl.graphql(CREATE, { input: { ...input, projectRef: undefined } }),
          (a) => {
            expect(topLevel(a)).toEqual([
              "Either 'project_ref' or deprecated 'devfile_ref' must be provided.",
            ]);
            expect(a.body.errors?.[0]?.path).toEqual(["workspaceCreate"]);
            expect(a.body.data).toEqual({ workspaceCreate: null });
          },
        ],
        [
          "unknown agent",
          () =>
            gl.graphql(CREATE, { input: { ...input, clusterAgentId: "gid://gitlab/Clusters::Agent/999" } }),
          (a) =>
            expect(topLevel(a)).toEqual([
              "The resource that you are attempting to access does not exist or you don't have permission to perform this action",
            ]),
        ],
        [
          "agent not mapped",
          () =>
            gl.graphql(CREATE, {
              input: { ...input, clusterAgentId: `gid://gitlab/Clusters::Agent/${unmappedAgent.id}` },
            }),
          (a) =>
            expect(topLevel(a)).toEqual([
              "The provided agent provided must be mapped to an ancestor namespace of the workspace's project.",
            ]),
        ],
        [
          "a devfile breaking GitLab's schemaVersion rule",
          () => gl.graphql(CREATE, { input: { ...input, devfilePath: "bad.devfile.yaml" } }),
          (a) =>
            expect(payload(a)).toEqual([
              "Workspace create devfile validation failed: 'schemaVersion' '2.1.0' is not supported, it must be '2.2.0'",
            ]),
        ],
        [
          "a devfile path the ref does not have",
          () => gl.graphql(CREATE, { input: { ...input, devfilePath: "nope.yaml" } }),
          (a) =>
            expect(payload(a)).toEqual([
              "Workspace create devfile load failed: Devfile path 'nope.yaml' at ref 'main' does not exist in the project repository",
            ]),
        ],
        [
          "unlicensed",
          () => unlicensed.graphql(CREATE, { input }),
          (a) => {
            expect(topLevel(a)).toEqual(["'remote_development' licensed feature is not available"]);
            expect(a.body.data).toEqual({ workspaceCreate: null });
          },
        ],
        [
          "malformed global ID",
          () => gl.graphql(`{ workspace(id: "seven") { name } }`),
          (a) => expect(topLevel(a)?.[0]).toContain('"seven" is not a valid Global ID'),
        ],
        [
          "a global ID of another model",
          () =>
            gl.graphql(UPDATE, {
              input: { id: `gid://gitlab/Project/${gl.projectId}`, desiredState: "Stopped" },
            }),
          (a) =>
            expect(JSON.stringify(a.body.errors)).toContain(
              `"gid://gitlab/Project/${gl.projectId}\\" does not represent an instance of RemoteDevelopment::Workspace`,
            ),
        ],
        [
          "unknown desiredState",
          () => gl.graphql(UPDATE, { input: { id: existing.id, desiredState: "Paused" } }),
          (a) =>
            expect(payload(a)).toEqual([
              "Workspace update failed: Desired state is not included in the list",
            ]),
        ],
        [
          "unknown desiredState on create",
          () => gl.graphql(CREATE, { input: { ...input, desiredState: "Sleeping" } }),
          (a) =>
            expect(payload(a)).toEqual([
              "Workspace create failed: Desired state is not included in the list",
            ]),
        ],
        [
          "unknown field",
          () => gl.graphql(`{ currentUser { workspaces { nodes { name bogus } } } }`),
          (a) => {
            expect(topLevel(a)).toEqual(["Field 'bogus' doesn't exist on type 'Workspace'"]);
            expect(a.body.errors?.[0]?.extensions).toEqual({
              code: "undefinedField",
              typeName: "Workspace",
              fieldName: "bogus",
            });
            expect(a.body.data).toBeUndefined();
          },
        ],
        [
          "syntax error",
          () => gl.graphql(`{ currentUser { workspaces { nodes { name } } } } }`),
          (a) => {
            expect(topLevel(a)).toEqual(['Parse error on "}" (RCURLY) at [1, 51]']);
            expect(a.body.data).toBeUndefined();
          },
        ],
        [
          "a query cut short",
          () => gl.graphql(`{ currentUser { workspaces { nodes { name } }`),
          (a) => expect(topLevel(a)).toEqual(["Unexpected end of document"]),
        ],
        [
          "missing required argument",
          () => gl.graphql(`mutation { workspaceCreate { errors } }`),
          (a) =>
            expect(topLevel(a)).toEqual(["Field 'workspaceCreate' is missing required arguments: input"]),
        ],
        [
          "an input field GitLab does not have",
          () =>
            gl.graphql(
              `mutation { workspaceUpdate(input: {id: "${existing.id}", desiredState: "Stopped", color: "red"}) { errors } }`,
            ),
          (a) =>
            expect(topLevel(a)).toEqual([
              "InputObject 'WorkspaceUpdateInput' doesn't accept argument 'color'",
            ]),
        ],
        [
          "someone else's workspace or none",
          () => gl.graphql(`{ workspace(id: "gid://gitlab/RemoteDevelopment::Workspace/4242") { name } }`),
          (a) =>
            expect(topLevel(a)).toEqual([
              "The resource that you are attempting to access does not exist or you don't have permission to perform this action",
            ]),
        ],
        [
          "an invalid token",
          () => graphqlAt(gl.url, "glpat-nope", MINE),
          (a) => {
            expect(a.status).toBe(401);
            expect(topLevel(a)).toEqual(["Invalid token"]);
          },
        ],
      ];
      expect(cases.length).toBeGreaterThanOrEqual(12);
      for (const [what, send, check] of cases) {
        const answer = await send();
        try {
          check(answer);
        } catch (err) {
          throw new Error(`${what}: ${JSON.stringify(answer.body)}\n${(err as Error).message}`);
        }
      }
      const after = await gl.graphql(MINE);
      expect(after.body).toEqual(before.body);
    } finally {
      await unlicensed.sim.stop();
    }
  });

  it("carries the desired config to agentk and computes the actual state from what agentk reports", async () => {
    const mine = await gl.graphql(MINE);
    const ws = mine.body.data.currentUser.workspaces.nodes[0];
    expect(
      (await gl.reconcile({ update_type: "full", workspace_agent_infos: [] }, "glagent-nope")).status,
    ).toBe(401);
    const bad = await gl.reconcile({ update_type: "sometimes", workspace_agent_infos: [] });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/^Workspace reconcile params validation failed: /);

    const full = await gl.reconcile({ update_type: "full", workspace_agent_infos: [] });
    expect(full.body.settings).toEqual({
      full_reconciliation_interval_seconds: 3600,
      partial_reconciliation_interval_seconds: 10,
    });
    const info = (full.body.workspace_rails_infos as Record<string, string>[]).find(
      (i) => i.name === ws.name,
    )!;
    expect(info).toMatchObject({ desired_state: "Running", actual_state: "CreationRequested" });
    expect(info.config_to_apply).toContain("kind: Deployment");
    expect(info.config_to_apply).toContain(`name: ${ws.name}-workspace-inventory`);

    // Nothing changed since the last answer: a partial reconcile returns no config.
    const quiet = await gl.reconcile({ update_type: "partial", workspace_agent_infos: [] });
    expect(quiet.body.workspace_rails_infos).toEqual([]);

    const running = {
      name: ws.name,
      namespace: info.namespace,
      latest_k8s_deployment_info: {
        metadata: { resourceVersion: "17", generation: 1 },
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          replicas: 1,
          availableReplicas: 1,
          conditions: [
            { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
            { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" },
          ],
        },
      },
    };
    await gl.reconcile({ update_type: "partial", workspace_agent_infos: [running] });
    const read = await gl.graphql(
      `query($id: RemoteDevelopmentWorkspaceID!) { workspace(id: $id) { actualState deploymentResourceVersion respondedToAgentAt } }`,
      { id: ws.id },
    );
    expect(read.body.data.workspace).toMatchObject({ actualState: "Running", deploymentResourceVersion: 17 });
    expect(read.body.data.workspace.respondedToAgentAt).not.toBeNull();

    // An apply agentk could not do makes the workspace Error until the agent reports the Deployment again.
    await gl.reconcile({
      update_type: "partial",
      workspace_agent_infos: [
        { ...running, error_details: { error_type: "applier", error_message: "403: forbidden" } },
      ],
    });
    expect(
      (
        await gl.graphql(`query($id: RemoteDevelopmentWorkspaceID!) { workspace(id: $id) { actualState } }`, {
          id: ws.id,
        })
      ).body.data.workspace.actualState,
    ).toBe("Error");
    await gl.reconcile({ update_type: "partial", workspace_agent_infos: [running] });

    // RestartRequested: replicas 0 until the agent reports Stopped, then Rails asks for Running again.
    await gl.graphql(UPDATE, { input: { id: ws.id, desiredState: "RestartRequested" } });
    const restart = await gl.reconcile({ update_type: "partial", workspace_agent_infos: [] });
    const restartInfo = (restart.body.workspace_rails_infos as Record<string, string>[])[0]!;
    expect(restartInfo.desired_state).toBe("RestartRequested");
    expect(restartInfo.config_to_apply).toMatch(/replicas: 0/);
    const stopped = structuredClone(running);
    stopped.latest_k8s_deployment_info.spec.replicas = 0;
    Object.assign(stopped.latest_k8s_deployment_info.status, { replicas: 0, availableReplicas: 0 });
    const back = await gl.reconcile({ update_type: "partial", workspace_agent_infos: [stopped] });
    const backInfo = (back.body.workspace_rails_infos as Record<string, string>[])[0]!;
    expect(backInfo).toMatchObject({ desired_state: "Running", actual_state: "Stopped" });
    expect(backInfo.config_to_apply).toMatch(/replicas: 1/);

    // Terminated: no config, and once the agent reports it gone the workspace is never returned again.
    await gl.graphql(UPDATE, { input: { id: ws.id, desiredState: "Terminated" } });
    const term = await gl.reconcile({ update_type: "partial", workspace_agent_infos: [] });
    expect((term.body.workspace_rails_infos as Record<string, string>[])[0]).toMatchObject({
      desired_state: "Terminated",
      config_to_apply: "",
    });
    await gl.reconcile({
      update_type: "partial",
      workspace_agent_infos: [
        { name: ws.name, namespace: info.namespace, termination_progress: "Terminated" },
      ],
    });
    expect(
      (await gl.reconcile({ update_type: "full", workspace_agent_infos: [] })).body.workspace_rails_infos,
    ).toEqual([]);
    const final = await gl.graphql(UPDATE, { input: { id: ws.id, desiredState: "Running" } });
    expect(final.body.data.workspaceUpdate.errors[0]).toMatch(/^Workspace update failed: /);
  });
});
