// The kinds the simulator serves, with the names Kubernetes discovery gives them.

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  hasStatus: boolean;
  /** Reviews: created to ask a question, never stored (only the create verb). */
  review?: boolean;
}

const t = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  hasStatus = false,
): ResourceType => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames,
  hasStatus,
});

export const RESOURCE_TYPES: ResourceType[] = [
  t("", "v1", "Namespace", "namespaces", false, ["ns"], true),
  t("", "v1", "Pod", "pods", true, ["po"], true),
  t("", "v1", "Service", "services", true, ["svc"], true),
  t("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
  t("", "v1", "Secret", "secrets", true),
  t("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"]),
  t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], true),
  t("", "v1", "ResourceQuota", "resourcequotas", true, ["quota"], true),
  t("", "v1", "Event", "events", true, ["ev"]),
  t("", "v1", "Endpoints", "endpoints", true, ["ep"]),
  t("", "v1", "Node", "nodes", false, ["no"], true),
  t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
  {
    ...t("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
    review: true,
  },
  {
    ...t("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", true),
    review: true,
  },
  { ...t("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false), review: true },
  t("apps", "v1", "Deployment", "deployments", true, ["deploy"], true),
  t("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], true),
  t("batch", "v1", "Job", "jobs", true, [], true),
  t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"]),
];

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function typeByPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function typeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

export function typeKey(r: ResourceType): string {
  return `${r.group}/${r.plural}`;
}
