// Groups in the GitLab simulator through @gitbeaker/rest: creation, search, lookup by id and by full path,
// projects placed in a group, and an agent mapped to a group (gid://gitlab/Group/<id>) that workspaceCreate
// finds as an ancestor of the project's namespace.
import { Gitlab } from "@gitbeaker/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitLabSimulator } from "../../src/sim/gitlab/index.ts";
import { AGENT_CONFIG, graphqlAt } from "../support/remote-development.ts";

const MAP = `mutation map($input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!) {
  namespaceCreateRemoteDevelopmentClusterAgentMapping(input: $input) { errors namespaceClusterAgentMapping { namespaceId } }
}`;
const CREATE = `mutation create($input: WorkspaceCreateInput!) {
  workspaceCreate(input: $input) { errors workspace { id } }
}`;

describe("groups in the GitLab simulator", () => {
  let sim: GitLabSimulator;
  let api: InstanceType<typeof Gitlab>;
  beforeAll(async () => {
    sim = await new GitLabSimulator().start();
    api = new Gitlab({ host: sim.url, token: sim.rootToken });
  });
  afterAll(() => sim?.stop());

  it("creates groups and subgroups in the namespace id space after root's namespace 1", async () => {
    const group = await api.Groups.create("Parity", "parity");
    expect(group).toMatchObject({ name: "Parity", path: "parity", full_path: "parity", parent_id: null });
    expect(group.id).toBeGreaterThan(1);
    const sub = await api.Groups.create("Team", "team", { parentId: group.id });
    expect(sub).toMatchObject({ full_path: "parity/team", full_name: "Parity / Team", parent_id: group.id });
    expect((await api.Groups.show("parity/team")).id).toBe(sub.id);
    expect((await api.Groups.show(group.id)).full_path).toBe("parity");
    expect((await api.Groups.all({ search: "tea" })).map((g) => g.full_path)).toEqual(["parity/team"]);
    await expect(api.Groups.create("Again", "parity")).rejects.toMatchObject({
      cause: { response: { status: 400 } },
    });
    await expect(api.Groups.create("Root", "root")).rejects.toMatchObject({
      cause: { response: { status: 400 } },
    });
    await expect(api.Groups.show("nowhere")).rejects.toMatchObject({ cause: { response: { status: 404 } } });
  });

  it("puts a project in a group with namespace_id", async () => {
    const team = await api.Groups.show("parity/team");
    const project = await api.Projects.create({ name: "ws", namespaceId: team.id as number });
    expect(project).toMatchObject({
      path_with_namespace: "parity/team/ws",
      name_with_namespace: "Parity / Team / ws",
      namespace: { id: team.id, kind: "group", full_path: "parity/team", parent_id: team.parent_id },
    });
    expect((await api.Projects.show("parity/team/ws")).id).toBe(project.id);
    // The same path in another namespace is another project.
    expect((await api.Projects.create({ name: "ws" })).path_with_namespace).toBe("root/ws");
    await expect(api.Projects.create({ name: "x", namespaceId: 999 })).rejects.toMatchObject({
      cause: { response: { status: 404 } },
    });
  });

  it("maps an agent to a group and accepts it for projects below that group only", async () => {
    const parity = await api.Groups.show("parity");
    const inGroup = await api.Projects.show("parity/team/ws");
    const inRoot = await api.Projects.show("root/ws");
    await api.Commits.create(inGroup.id, "main", "agent config", [
      { action: "create", filePath: ".gitlab/agents/wsparity/config.yaml", content: AGENT_CONFIG },
    ]);
    const agent = await api.Agents.register(inGroup.id, "wsparity");
    const mapped = await graphqlAt(sim.url, sim.rootToken, MAP, {
      input: {
        clusterAgentId: `gid://gitlab/Clusters::Agent/${agent.id}`,
        namespaceId: `gid://gitlab/Group/${parity.id}`,
      },
    });
    expect(mapped.body.errors).toBeUndefined();
    expect(mapped.body.data.namespaceCreateRemoteDevelopmentClusterAgentMapping).toEqual({
      errors: [],
      namespaceClusterAgentMapping: { namespaceId: `gid://gitlab/Namespace/${parity.id}` },
    });
    const create = (projectId: number) =>
      graphqlAt(sim.url, sim.rootToken, CREATE, {
        input: {
          clusterAgentId: `gid://gitlab/Clusters::Agent/${agent.id}`,
          projectId: `gid://gitlab/Project/${projectId}`,
          desiredState: "Running",
          projectRef: "main",
          devfilePath: ".devfile.yaml",
        },
      });
    const agents = async (fullPath: string, filter: string) =>
      (
        await graphqlAt(
          sim.url,
          sim.rootToken,
          `query($p: ID!) { group(fullPath: $p) { workspacesClusterAgents(filter: ${filter}) { nodes { id } } } }`,
          { p: fullPath },
        )
      ).body.data.group.workspacesClusterAgents.nodes.map((n: { id: string }) => n.id);
    const gid = `gid://gitlab/Clusters::Agent/${agent.id}`;
    expect(await agents("parity", "DIRECTLY_MAPPED")).toEqual([gid]);
    expect(await agents("parity/team", "DIRECTLY_MAPPED")).toEqual([]);
    expect(await agents("parity/team", "AVAILABLE")).toEqual([gid]);
    expect(await agents("parity/team", "UNMAPPED")).toEqual([gid]);
    expect(await agents("parity", "ALL")).toEqual([gid]);
    const ancestorError = "mapped to an ancestor namespace";
    expect(JSON.stringify((await create(inRoot.id as number)).body)).toContain(ancestorError);
    expect(JSON.stringify((await create(inGroup.id as number)).body)).not.toContain(ancestorError);
  });
});
