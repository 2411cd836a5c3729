// WorkspaceSpec + WorkspaceSettings -> the Kubernetes objects GitLab's desired config holds for a workspace.
import { createHash } from "node:crypto";
import type { ContainerSpec, WorkspaceSpec } from "../devfile/spec.ts";
import { mainContainer, resolveCommands } from "../devfile/spec.ts";
import type { KubeObject } from "./objects.ts";
import {
  commandScript,
  INIT_TOOLS_COMMAND,
  INIT_TOOLS_SCRIPT,
  KEEP_ALIVE_SCRIPT,
  postStartHook,
  RUN_INTERNAL_BLOCKING,
  RUN_NON_BLOCKING,
  runSequentially,
  START_SSHD_COMMAND,
  START_SSHD_SCRIPT,
} from "./scripts.ts";
import {
  EDITOR_PORT,
  SCRIPTS_DIR,
  SCRIPTS_VOLUME,
  SSH_PORT,
  TOOLS_DIR,
  VARIABLES_FILE_DIR,
  VARIABLES_VOLUME,
  WORKSPACE_DATA_VOLUME,
  WORKSPACE_LOGS_DIR,
  WORKSPACE_UID,
  type WorkspaceSettings,
} from "./settings.ts";

export const TOOLS_INJECTOR = "gl-tools-injector";
export const PROJECT_CLONER = "gl-project-cloner";
export const PROJECT_CLONER_IMAGE = "alpine/git:2.45.2";
export const AGENT_ID_LABEL = "agent.gitlab.com/id";
export const HOST_TEMPLATE_ANNOTATION = "workspaces.gitlab.com/host-template";
export const WORKSPACE_ID_ANNOTATION = "workspaces.gitlab.com/id";
export const OWNING_INVENTORY_ANNOTATION = "config.k8s.io/owning-inventory";
export const INVENTORY_ID_LABEL = "cli-utils.sigs.k8s.io/inventory-id";

const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  runAsUser: WORKSPACE_UID,
};

export interface WorkspaceNames {
  deployment: string;
  workspaceInventory: string;
  secretsInventory: string;
  scriptsConfigMap: string;
  envSecret: string;
  fileSecret: string;
  dataClaim: string;
}

export function workspaceNames(ws: string): WorkspaceNames {
  return {
    deployment: ws,
    workspaceInventory: `${ws}-workspace-inventory`,
    secretsInventory: `${ws}-secrets-inventory`,
    scriptsConfigMap: `${ws}-scripts-configmap`,
    envSecret: `${ws}-env-var`,
    fileSecret: `${ws}-file`,
    dataClaim: `${ws}-${WORKSPACE_DATA_VOLUME}`,
  };
}

/** The objects GitLab asks agentk to apply for this workspace, in GitLab's order. */
export function desiredConfig(spec: WorkspaceSpec, settings: WorkspaceSettings): KubeObject[] {
  const names = workspaceNames(settings.name);
  const workload = workloadOf(spec, settings);
  const labels = { ...settings.labels, [AGENT_ID_LABEL]: settings.agentId };
  const quota = settings.maxResourcesPerWorkspace;
  const baseAnnotations: Record<string, string> = {
    ...settings.annotations,
    [HOST_TEMPLATE_ANNOTATION]: `{{.port}}-${settings.name}.${settings.dnsZone}`,
    [WORKSPACE_ID_ANNOTATION]: settings.workspaceId,
  };
  if (quota) {
    baseAnnotations["workspaces.gitlab.com/max-resources-per-workspace-sha256"] = createHash("sha256")
      .update(JSON.stringify(quota))
      .digest("hex");
  }
  const meta = (name: string, inventory: string | null, extraLabels: Record<string, string> = {}) => ({
    name,
    namespace: settings.namespace,
    labels: { ...labels, ...extraLabels },
    annotations: inventory
      ? { ...baseAnnotations, [OWNING_INVENTORY_ANNOTATION]: inventory }
      : { ...baseAnnotations },
  });
  const inWorkspace = (name: string) => meta(name, names.workspaceInventory);
  const inSecrets = (name: string) => meta(name, names.secretsInventory);

  const objects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(names.workspaceInventory, null, { [INVENTORY_ID_LABEL]: names.workspaceInventory }),
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: inWorkspace(names.deployment),
      spec: {
        replicas: settings.desiredState === "Running" ? 1 : 0,
        selector: { matchLabels: labels },
        strategy: { type: "Recreate" },
        template: {
          metadata: inWorkspace(names.deployment),
          spec: {
            initContainers: workload.initContainers,
            containers: workload.containers,
            serviceAccountName: names.deployment,
            securityContext: {
              fsGroup: 0,
              fsGroupChangePolicy: "OnRootMismatch",
              runAsNonRoot: true,
              runAsUser: WORKSPACE_UID,
            },
            volumes: workload.volumes,
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: inWorkspace(names.deployment),
      spec: { ports: workload.servicePorts, selector: labels },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: inWorkspace(names.dataClaim),
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: settings.workspaceDataSize } },
      },
    },
    ...workload.claims.map((c) => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: inWorkspace(c.name),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: c.size } } },
    })),
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: inWorkspace(names.deployment),
      automountServiceAccountToken: false,
      ...(settings.imagePullSecrets.length
        ? { imagePullSecrets: settings.imagePullSecrets.map((name) => ({ name })) }
        : {}),
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: inWorkspace(names.deployment),
      spec: networkPolicySpec(),
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: inWorkspace(names.scriptsConfigMap),
      data: workload.scripts,
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(names.secretsInventory, null, { [INVENTORY_ID_LABEL]: names.secretsInventory }),
    },
  ];
  if (quota) {
    objects.push({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: inWorkspace(names.deployment),
      spec: {
        hard: {
          "limits.cpu": quota.limits.cpu,
          "limits.memory": quota.limits.memory,
          "requests.cpu": quota.requests.cpu,
          "requests.memory": quota.requests.memory,
        },
      },
    });
  }
  objects.push(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: inSecrets(names.envSecret),
      data: base64Values(settings.userEnv),
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: inSecrets(names.fileSecret),
      data: base64Values(settings.userFiles),
    },
  );
  return objects;
}

interface Workload {
  initContainers: Record<string, unknown>[];
  containers: Record<string, unknown>[];
  volumes: Record<string, unknown>[];
  servicePorts: { name: string; port: number; targetPort: number; protocol?: string }[];
  claims: { name: string; size: string }[];
  scripts: Record<string, string>;
  scriptItems: { key: string; path: string }[];
}

function workloadOf(spec: WorkspaceSpec, settings: WorkspaceSettings): Workload {
  const names = workspaceNames(settings.name);
  const main = mainContainer(spec);
  const byName = new Map(spec.containers.map((c) => [c.name, c]));
  const projectSource = settings.projectCloner
    ? `/projects/${settings.projectCloner.projectName}`
    : "/projects";
  const commonEnv = [
    { name: "PROJECTS_ROOT", value: "/projects" },
    { name: "PROJECT_SOURCE", value: projectSource },
  ];
  const envFrom = [{ secretRef: { name: names.envSecret } }];
  const workspaceMounts = [
    { name: WORKSPACE_DATA_VOLUME, mountPath: "/projects" },
    { name: VARIABLES_VOLUME, mountPath: VARIABLES_FILE_DIR },
  ];

  // preStart: tools injector, project cloner, then the devfile's preStart apply commands, as init containers.
  const initContainers: Record<string, unknown>[] = [];
  const initComponents = new Set<string>();
  const addInit = (component: string, commandId: string, c: Record<string, unknown>) => {
    initContainers.push({
      name: `${component}-${commandId}-${initContainers.length + 1}`,
      imagePullPolicy: "Always",
      ...c,
      env: [...((c.env as unknown[]) ?? []), ...commonEnv],
      envFrom,
      securityContext: CONTAINER_SECURITY_CONTEXT,
      volumeMounts: [...workspaceMounts, ...((c.volumeMounts as unknown[]) ?? [])],
    });
  };
  if (settings.injectEditor && !byName.has(TOOLS_INJECTOR)) {
    addInit(TOOLS_INJECTOR, `${TOOLS_INJECTOR}-command`, {
      image: settings.toolsImage,
      env: [{ name: "GL_TOOLS_DIR", value: TOOLS_DIR }],
      resources: { limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "100m", memory: "256Mi" } },
    });
  }
  if (settings.projectCloner) {
    const p = settings.projectCloner;
    addInit(PROJECT_CLONER, `${PROJECT_CLONER}-command`, {
      image: PROJECT_CLONER_IMAGE,
      command: ["/bin/sh", "-c"],
      args: [cloneScript(p.repoUrl, p.branch, `/projects/${p.projectName}`)],
      resources: { limits: { cpu: "500m", memory: "1000Mi" }, requests: { cpu: "100m", memory: "500Mi" } },
    });
  }
  const byId = new Map(spec.commands.map((c) => [c.id, c]));
  for (const id of spec.events.preStart) {
    const cmd = byId.get(id.toLowerCase());
    if (!cmd || cmd.kind === "composite") continue;
    const component = byName.get(cmd.component);
    if (!component) continue;
    initComponents.add(component.name);
    const base = containerBase(component, spec);
    if (cmd.kind === "exec") {
      base.command = ["/bin/sh", "-c"];
      base.args = [commandScript(cmd)];
    }
    addInit(component.name, cmd.id, base);
  }

  // postStart: GitLab's internal commands in the main container, then the devfile's postStart exec commands.
  const scripts: Record<string, string> = {};
  const scriptItems: { key: string; path: string }[] = [];
  const internalByContainer = new Map<string, string[]>();
  const userByContainer = new Map<string, string[]>();
  const addScript = (container: string, id: string, body: string, into: Map<string, string[]>) => {
    const key = `${container}.${id}`;
    scripts[key] = body;
    scriptItems.push({ key, path: `${container}/${id}` });
    into.set(container, [...(into.get(container) ?? []), id]);
  };
  if (settings.injectEditor) {
    addScript(main.name, START_SSHD_COMMAND, START_SSHD_SCRIPT, internalByContainer);
    addScript(main.name, INIT_TOOLS_COMMAND, INIT_TOOLS_SCRIPT, internalByContainer);
  }
  for (const cmd of resolveCommands(spec, spec.events.postStart)) {
    addScript(cmd.component, cmd.id, commandScript(cmd), userByContainer);
  }
  const withHooks = new Set([...internalByContainer.keys(), ...userByContainer.keys()]);
  for (const container of withHooks) {
    for (const [file, ids] of [
      [RUN_INTERNAL_BLOCKING, internalByContainer.get(container) ?? []],
      [RUN_NON_BLOCKING, userByContainer.get(container) ?? []],
    ] as const) {
      const key = `${container}.${file}`;
      scripts[key] = runSequentially(container, ids);
      scriptItems.push({ key, path: `${container}/${file}` });
    }
  }

  const containers: Record<string, unknown>[] = [];
  const servicePorts: Workload["servicePorts"] = [];
  for (const c of spec.containers) {
    if (initComponents.has(c.name) || c.name === TOOLS_INJECTOR) continue;
    const k = containerBase(c, spec);
    const isMain = c.name === main.name;
    const endpoints = [...c.endpoints];
    if (isMain && settings.injectEditor) {
      k.env = [
        { name: "GL_TOOLS_DIR", value: TOOLS_DIR },
        { name: "GL_VSCODE_LOG_LEVEL", value: "info" },
        { name: "GL_VSCODE_PORT", value: String(EDITOR_PORT) },
        { name: "GL_SSH_PORT", value: String(SSH_PORT) },
        { name: "GL_VSCODE_ENABLE_MARKETPLACE", value: "false" },
        ...(k.env as unknown[]),
      ];
      if (!endpoints.some((e) => e.targetPort === EDITOR_PORT)) {
        endpoints.push(injectedEndpoint("editor-server", EDITOR_PORT, "https"));
      }
      if (!endpoints.some((e) => e.targetPort === SSH_PORT)) {
        endpoints.push(injectedEndpoint("ssh-server", SSH_PORT, "tcp"));
      }
    }
    k.env = [
      ...(k.env as unknown[]),
      { name: "GL_WORKSPACE_LOGS_DIR", value: WORKSPACE_LOGS_DIR },
      ...commonEnv,
    ];
    if (isMain && c.attributes.overrideCommand !== false && !c.command && !c.args) {
      k.command = ["/bin/sh", "-c"];
      k.args = [KEEP_ALIVE_SCRIPT];
    }
    if (endpoints.length) {
      k.ports = endpoints.map((e) => ({
        containerPort: e.targetPort,
        name: e.name,
        protocol: portProtocol(e.protocol),
      }));
    }
    for (const e of endpoints) {
      if (servicePorts.some((p) => p.port === e.targetPort)) continue;
      servicePorts.push({
        name: e.name,
        port: e.targetPort,
        targetPort: e.targetPort,
        protocol: portProtocol(e.protocol),
      });
    }
    k.envFrom = envFrom;
    k.securityContext = CONTAINER_SECURITY_CONTEXT;
    k.volumeMounts = [
      ...workspaceMounts,
      ...(k.volumeMounts as { name: string }[]).filter((m) => m.name !== WORKSPACE_DATA_VOLUME),
    ];
    if (withHooks.has(c.name)) {
      (k.volumeMounts as unknown[]).push({ name: SCRIPTS_VOLUME, mountPath: SCRIPTS_DIR });
      k.lifecycle = { postStart: { exec: { command: postStartHook(c.name) } } };
    }
    containers.push(k);
  }

  const claims: Workload["claims"] = [];
  const volumes: Record<string, unknown>[] = [
    { name: WORKSPACE_DATA_VOLUME, persistentVolumeClaim: { claimName: names.dataClaim } },
    {
      name: VARIABLES_VOLUME,
      projected: { defaultMode: 0o774, sources: [{ secret: { name: names.fileSecret } }] },
    },
    {
      name: SCRIPTS_VOLUME,
      projected: {
        defaultMode: 0o555,
        sources: [{ configMap: { name: names.scriptsConfigMap, items: scriptItems } }],
      },
    },
  ];
  for (const v of spec.volumes) {
    if (v.name === WORKSPACE_DATA_VOLUME) continue;
    if (v.ephemeral) {
      volumes.push({ name: v.name, emptyDir: v.size ? { sizeLimit: v.size } : {} });
    } else {
      const claimName = `${settings.name}-${v.name}`;
      claims.push({ name: claimName, size: v.size ?? "1Gi" });
      volumes.push({ name: v.name, persistentVolumeClaim: { claimName } });
    }
  }
  return { initContainers, containers, volumes, servicePorts, claims, scripts, scriptItems };
}

/** The Kubernetes container for a devfile container component, before GitLab's additions. */
function containerBase(c: ContainerSpec, spec: WorkspaceSpec): Record<string, unknown> {
  const k: Record<string, unknown> = { name: c.name, image: c.image, imagePullPolicy: "Always" };
  if (c.command) k.command = c.command;
  if (c.args) k.args = c.args;
  k.env = c.env.map((e) => ({ name: e.name, value: e.value }));
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (c.cpuLimit) limits.cpu = c.cpuLimit;
  if (c.memoryLimit) limits.memory = c.memoryLimit;
  if (c.cpuRequest) requests.cpu = c.cpuRequest;
  if (c.memoryRequest) requests.memory = c.memoryRequest;
  if (Object.keys(limits).length || Object.keys(requests).length) {
    k.resources = {
      ...(Object.keys(limits).length ? { limits } : {}),
      ...(Object.keys(requests).length ? { requests } : {}),
    };
  }
  const declared = new Set(spec.volumes.map((v) => v.name));
  k.volumeMounts = c.volumeMounts
    .filter((m) => declared.has(m.name) || m.name === WORKSPACE_DATA_VOLUME)
    .map((m) => ({ name: m.name, mountPath: m.path }));
  return k;
}

function injectedEndpoint(name: string, port: number, protocol: "https" | "tcp") {
  return { name, targetPort: port, exposure: "public" as const, protocol, secure: true, attributes: {} };
}

function portProtocol(p: string): "TCP" | "UDP" {
  return p === "udp" ? "UDP" : "TCP";
}

function networkPolicySpec() {
  return {
    egress: [
      {
        ports: [
          { port: 53, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
      },
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }] },
    ],
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gitlab-workspaces" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "gitlab-workspaces-proxy" } },
          },
        ],
      },
    ],
    podSelector: {},
    policyTypes: ["Ingress", "Egress"],
  };
}

function base64Values(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
}

function cloneScript(repoUrl: string, branch: string, dir: string): string {
  return `if [ -f "/projects/.gl_project_cloning_successful" ]; then
  echo "$(date -Iseconds): Project cloning was already successful"; exit 0
fi
rm -rf "${dir}"
git clone --branch "${branch}" "${repoUrl}" "${dir}" && touch "/projects/.gl_project_cloning_successful"
`;
}
