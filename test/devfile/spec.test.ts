import { describe, expect, it } from "vitest";
import {
  loadDevfile,
  parseDevfileText,
  resolveCommands,
  type WorkspaceSpec,
} from "../../src/devfile/index.ts";

async function specOf(text: string, file = "dir/my-app.devfile.yaml"): Promise<WorkspaceSpec> {
  const result = await parseDevfileText(text, file);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("\n"));
  return result.spec;
}

describe("WorkspaceSpec", () => {
  it("fills the devfile defaults and resolves commands", async () => {
    const spec = await specOf(`schemaVersion: 2.2.2
attributes: {team: ide}
components:
  - name: first
    container:
      image: alpine
      endpoints:
        - {name: web, targetPort: 8080}
      volumeMounts:
        - {name: data}
  - name: second
    attributes: {gl/inject-editor: true, overrideCommand: false}
    container:
      image: node:20
      command: [node]
      args: [server.js]
      mountSources: false
      env: [{name: PORT, value: "3000"}]
      cpuRequest: 100m
  - name: data
    volume: {}
  - name: deploy
    kubernetes: {uri: deploy.yaml}
commands:
  - id: build
    exec: {component: first, commandLine: make, group: {kind: build}}
  - id: init
    apply: {component: first}
  - id: test
    exec: {component: second, commandLine: npm test, workingDir: /projects/app, label: Test}
  - id: all
    composite: {commands: [build, test], parallel: true}
events:
  preStart: [init]
  postStart: [all]
`);
    expect(spec.name).toBe("my-app");
    const [first, second] = spec.containers;
    expect(first).toMatchObject({
      name: "first",
      main: false,
      mountSources: true,
      sourceMapping: "/projects",
      volumeMounts: [{ name: "data", path: "/data" }],
      endpoints: [
        {
          name: "web",
          targetPort: 8080,
          exposure: "public",
          protocol: "http",
          secure: false,
          attributes: {},
        },
      ],
    });
    expect(first!.command).toBeUndefined();
    expect(second).toMatchObject({
      main: true,
      command: ["node"],
      args: ["server.js"],
      mountSources: false,
      env: [{ name: "PORT", value: "3000" }],
      cpuRequest: "100m",
      attributes: { "gl/inject-editor": true, overrideCommand: false },
    });
    expect(spec.volumes).toEqual([{ name: "data", ephemeral: false }]);
    expect(spec.ignoredComponents).toEqual([{ name: "deploy", type: "kubernetes" }]);
    expect(spec.commands).toEqual([
      {
        kind: "exec",
        id: "build",
        component: "first",
        commandLine: "make",
        env: [],
        hotReloadCapable: false,
        group: { kind: "build", isDefault: false },
      },
      { kind: "apply", id: "init", component: "first" },
      {
        kind: "exec",
        id: "test",
        component: "second",
        commandLine: "npm test",
        env: [],
        hotReloadCapable: false,
        workingDir: "/projects/app",
        label: "Test",
      },
      { kind: "composite", id: "all", commands: ["build", "test"], parallel: true },
    ]);
    expect(spec.events).toEqual({ preStart: ["init"], postStart: ["all"], preStop: [], postStop: [] });
    expect(resolveCommands(spec, spec.events.postStart).map((c) => c.id)).toEqual(["build", "test"]);
    expect(spec.attributes).toEqual({ team: "ide" });
  });

  it("makes the first container the main one when none has gl/inject-editor", async () => {
    const spec = await specOf(
      "schemaVersion: 2.2.0\ncomponents:\n  - name: a\n    container: {image: x}\n  - name: b\n    container: {image: y}\n",
    );
    expect(spec.containers.map((c) => c.main)).toEqual([true, false]);
  });

  it("maps the multi-container scenario: every exposure and protocol, resources, sidecar command", async () => {
    const result = await loadDevfile("scenarios/devfiles/multi-container.devfile.yaml", { rules: "gitlab" });
    if (!result.ok) expect.fail(result.errors.map((e) => e.message).join("\n"));
    const [tooling, sidecar] = result.spec.containers;
    expect(tooling!.main).toBe(true);
    expect(new Set(tooling!.endpoints.map((e) => e.protocol))).toEqual(
      new Set(["http", "https", "ws", "wss", "tcp", "udp"]),
    );
    expect(new Set(tooling!.endpoints.map((e) => e.exposure))).toEqual(
      new Set(["public", "internal", "none"]),
    );
    expect(tooling!.endpoints.find((e) => e.protocol === "ws")!.path).toBe("/socket");
    expect([tooling!.memoryRequest, tooling!.memoryLimit, tooling!.cpuRequest, tooling!.cpuLimit]).toEqual([
      "256Mi",
      "1Gi",
      "250m",
      "1",
    ]);
    expect([sidecar!.command, sidecar!.args]).toEqual([["httpd"], ["-f", "-p", "9090", "-h", "/srv"]]);
  });
});
