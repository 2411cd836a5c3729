// The Kubernetes objects that run agentk in the live tier's k3s, as the gitlab-agent Helm chart would render them
// for one agent: a namespace, a service account bound to cluster-admin (the chart's default RBAC), the agent token
// as a secret, and a one-replica deployment of the agentk release matching GitLab's minor version.
import { createHash } from "node:crypto";
import { stringify } from "yaml";

/** agentk's release follows GitLab's; "the previous and next minor versions are also supported". */
export const AGENTK_IMAGE = "registry.gitlab.com/gitlab-org/cluster-integration/gitlab-agent/agentk:v18.11.3";

export interface AgentkManifestInput {
  agentName: string;
  token: string;
  /** KAS behind GitLab's external URL: ws://<host>/-/kubernetes-agent/ (omnibus doc/administration/clusters/kas.md). */
  kasAddress: string;
  /** GitLab's host name and its address on the compose network: pods in k3s do not resolve compose names. */
  gitlabHost: { hostname: string; ip: string };
  image?: string;
  /** Namespaces the live tier's jobs need besides agentk's (the kubernetes runner's, runners/live/kubernetes.toml). */
  extraNamespaces?: string[];
}

export function agentkManifest(input: AgentkManifestInput): string {
  const namespace = `gitlab-agent-${input.agentName}`;
  const name = `${input.agentName}-agentk`;
  const labels = { "app.kubernetes.io/name": "gitlab-agent", "app.kubernetes.io/instance": input.agentName };
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    ...(input.extraNamespaces ?? []).map((name) => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    })),
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${namespace}-cluster-admin` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-token`, namespace },
      type: "Opaque",
      stringData: { token: input.token },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          // A new token changes the pod template, so apply rolls agentk onto it (it reads the token at start).
          metadata: {
            labels,
            annotations: {
              "wsparity.io/token-sha256": createHash("sha256").update(input.token).digest("hex").slice(0, 16),
            },
          },
          spec: {
            serviceAccountName: name,
            hostAliases: [{ ip: input.gitlabHost.ip, hostnames: [input.gitlabHost.hostname] }],
            containers: [
              {
                name: "agent",
                image: input.image ?? AGENTK_IMAGE,
                imagePullPolicy: "IfNotPresent",
                args: ["--token-file=/etc/agentk/secrets/token", `--kas-address=${input.kasAddress}`],
                env: [
                  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                ],
                volumeMounts: [{ name: "token", mountPath: "/etc/agentk/secrets", readOnly: true }],
              },
            ],
            volumes: [{ name: "token", secret: { secretName: `${name}-token` } }],
          },
        },
      },
    },
  ];
  return objects.map((o) => stringify(o)).join("---\n");
}
