// Validates generated objects against Kubernetes' OpenAPI schemas (kubernetes-models).
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { KubeObject } from "../../src/kubernetes/objects.ts";

// biome-ignore lint/suspicious/noExplicitAny: each model constructor takes its own data type
const models: Record<string, new (data: any) => { validate(): void }> = {
  Deployment,
  NetworkPolicy,
  ConfigMap,
  PersistentVolumeClaim,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
};

export function validateObject(o: KubeObject): void {
  const Model = models[o.kind];
  if (!Model) throw new Error(`no schema for kind ${o.kind}`);
  new Model(o).validate();
}
