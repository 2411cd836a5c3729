import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { defaultSettings, desiredConfig, toYamlStream } from "../../src/kubernetes/index.ts";
import { arbitraryWorkspace, container, endpoint, workspace } from "./spec-fixtures.ts";
import { validateObject } from "./validate-models.ts";

describe("desiredConfig", () => {
  it("produces GitLab's object set with the workspace's names", () => {
    const spec = workspace({ volumes: [{ name: "cache", size: "2Gi", ephemeral: false }] });
    const settings = defaultSettings("demo", {
      name: "workspace-1-2-abc",
      namespace: "gl-rd-ns-1-2-abc",
      userEnv: { TOKEN: "s3cret" },
      userFiles: { "config.txt": "hello" },
      maxResourcesPerWorkspace: {
        limits: { cpu: "2", memory: "4Gi" },
        requests: { cpu: "1", memory: "1Gi" },
      },
    });
    const objects = desiredConfig(spec, settings);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ConfigMap/workspace-1-2-abc-workspace-inventory",
      "Deployment/workspace-1-2-abc",
      "Service/workspace-1-2-abc",
      "PersistentVolumeClaim/workspace-1-2-abc-gl-workspace-data",
      "PersistentVolumeClaim/workspace-1-2-abc-cache",
      "ServiceAccount/workspace-1-2-abc",
      "NetworkPolicy/workspace-1-2-abc",
      "ConfigMap/workspace-1-2-abc-scripts-configmap",
      "ConfigMap/workspace-1-2-abc-secrets-inventory",
      "ResourceQuota/workspace-1-2-abc",
      "Secret/workspace-1-2-abc-env-var",
      "Secret/workspace-1-2-abc-file",
    ]);
    for (const o of objects) validateObject(o);
    const secret = objects.find((o) => o.metadata.name.endsWith("-env-var"))!;
    expect(Buffer.from(secret.data.TOKEN, "base64").toString()).toBe("s3cret");
  });

  it("runs the pod as UID 5001, non-root, with the editor on 60001 and SSH on 60022", () => {
    const objects = desiredConfig(workspace(), defaultSettings("demo"));
    const deployment = objects.find((o) => o.kind === "Deployment")!;
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsUser: 5001, runAsNonRoot: true });
    const main = pod.containers[0];
    expect(main.securityContext).toMatchObject({
      runAsUser: 5001,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
    });
    expect(main.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([60001, 60022]);
    expect(pod.initContainers[0].name).toBe("gl-tools-injector-gl-tools-injector-command-1");
    expect(main.lifecycle.postStart.exec.command[0]).toBe("/bin/sh");
    expect(main.command).toEqual(["/bin/sh", "-c"]);
    const service = objects.find((o) => o.kind === "Service")!;
    expect(service.spec.ports.map((p: { port: number }) => p.port)).toEqual([60001, 60022]);
  });

  it("keeps the devfile's command and sets replicas from the desired state", () => {
    const spec = workspace({
      containers: [
        container("main", { main: true, command: ["node", "server.js"], endpoints: [endpoint("web", 3000)] }),
      ],
    });
    const stopped = desiredConfig(
      spec,
      defaultSettings("demo", { desiredState: "Stopped", injectEditor: false }),
    );
    const d = stopped.find((o) => o.kind === "Deployment")!;
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.containers[0].command).toEqual(["node", "server.js"]);
    expect(d.spec.template.spec.initContainers).toEqual([]);
  });

  it("every object of any workspace validates against the Kubernetes OpenAPI schema", () => {
    fc.assert(
      fc.property(arbitraryWorkspace, fc.boolean(), (spec, injectEditor) => {
        for (const o of desiredConfig(spec, defaultSettings(spec.name, { injectEditor }))) validateObject(o);
      }),
      { numRuns: 60 },
    );
  });

  it("prints a YAML stream that parses back to the same objects", () => {
    fc.assert(
      fc.property(arbitraryWorkspace, (spec) => {
        const objects = desiredConfig(spec, defaultSettings(spec.name));
        const docs = parseAllDocuments(toYamlStream(objects)).map((d) => d.toJS());
        expect(docs).toEqual(JSON.parse(JSON.stringify(objects)));
      }),
      { numRuns: 30 },
    );
  });
});
