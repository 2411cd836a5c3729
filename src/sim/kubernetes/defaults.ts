// kube-apiserver's defaulting for the served kinds (k8s.io/kubernetes pkg/apis/core/v1/defaults.go,
// pkg/apis/apps/v1/defaults.go, pkg/apis/networking/v1/defaults.go): what a stored object carries that nobody sent.
// biome-ignore-all lint/suspicious/noExplicitAny: defaulting walks arbitrary Kubernetes objects
import type { KubeObject } from "../../kubernetes/objects.ts";

const DEFAULT_MODE = 0o644;
const VOLUME_SOURCES_WITH_MODE = ["secret", "configMap", "downwardAPI", "projected"];

const setDefault = (o: Record<string, any>, key: string, value: unknown) => {
  if (o[key] === undefined || o[key] === null) o[key] = value;
};

/** Fills in the defaults of a served kind in place. */
export function applyDefaults(o: KubeObject): void {
  if (kindsWithSpec.has(o.kind)) o.spec ??= {};
  const spec = o.spec;
  switch (o.kind) {
    case "Pod":
      defaultPodSpec(spec);
      break;
    case "Deployment":
      setDefault(spec, "replicas", 1);
      spec.strategy ??= {};
      setDefault(spec.strategy, "type", "RollingUpdate");
      if (spec.strategy.type === "RollingUpdate") {
        spec.strategy.rollingUpdate ??= {};
        setDefault(spec.strategy.rollingUpdate, "maxUnavailable", "25%");
        setDefault(spec.strategy.rollingUpdate, "maxSurge", "25%");
      }
      setDefault(spec, "revisionHistoryLimit", 10);
      setDefault(spec, "progressDeadlineSeconds", 600);
      defaultPodSpec(spec.template?.spec);
      break;
    case "ReplicaSet":
      setDefault(spec, "replicas", 1);
      defaultPodSpec(spec.template?.spec);
      break;
    case "Job":
      // pkg/apis/batch/v1/defaults.go
      if (spec.completions == null && spec.parallelism == null) spec.completions = 1;
      setDefault(spec, "parallelism", 1);
      setDefault(spec, "backoffLimit", 6);
      setDefault(spec, "completionMode", "NonIndexed");
      setDefault(spec, "suspend", false);
      setDefault(spec, "manualSelector", false);
      setDefault(spec, "podReplacementPolicy", spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed");
      defaultPodSpec(spec.template?.spec);
      break;
    case "Service":
      defaultService(spec);
      break;
    case "Secret":
      setDefault(o, "type", "Opaque");
      break;
    case "PersistentVolumeClaim":
      setDefault(spec, "volumeMode", "Filesystem");
      break;
    case "NetworkPolicy":
      if (!spec.policyTypes?.length) {
        spec.policyTypes = ["Ingress", ...(spec.egress?.length ? ["Egress"] : [])];
      }
      for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
        for (const port of rule?.ports ?? []) setDefault(port, "protocol", "TCP");
      }
      break;
  }
}

const kindsWithSpec = new Set([
  "Pod",
  "Deployment",
  "ReplicaSet",
  "Service",
  "PersistentVolumeClaim",
  "NetworkPolicy",
  "Job",
]);

function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== "object") return;
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "securityContext", {});
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "enableServiceLinks", true);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (!v || typeof v !== "object") continue;
    const sources = Object.keys(v).filter((k) => k !== "name");
    if (!sources.length) v.emptyDir = {};
    for (const kind of VOLUME_SOURCES_WITH_MODE)
      if (v[kind]) setDefault(v[kind], "defaultMode", DEFAULT_MODE);
    if (v.hostPath) setDefault(v.hostPath, "type", "");
  }
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== "object") return;
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  if (typeof c.image === "string") setDefault(c, "imagePullPolicy", pullPolicyFor(c.image));
  setDefault(c, "resources", {});
  for (const p of c.ports ?? []) if (p) setDefault(p, "protocol", "TCP");
  for (const e of c.env ?? [])
    if (e?.valueFrom?.fieldRef) setDefault(e.valueFrom.fieldRef, "apiVersion", "v1");
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe || typeof probe !== "object") continue;
    setDefault(probe, "timeoutSeconds", 1);
    setDefault(probe, "periodSeconds", 10);
    setDefault(probe, "successThreshold", 1);
    setDefault(probe, "failureThreshold", 3);
    if (probe.httpGet) {
      setDefault(probe.httpGet, "path", "/");
      setDefault(probe.httpGet, "scheme", "HTTP");
    }
  }
}

/** Always for `:latest` or no tag, IfNotPresent otherwise (a digest counts as a tag). */
function pullPolicyFor(image: string): string {
  if (image.includes("@")) return "IfNotPresent";
  const last = image.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.split(":").pop() : undefined;
  return !tag || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultService(spec: any): void {
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  if (spec.type !== "ExternalName") {
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    setDefault(spec, "ipFamilies", ["IPv4"]);
    setDefault(spec, "internalTrafficPolicy", "Cluster");
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer")
    setDefault(spec, "externalTrafficPolicy", "Cluster");
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== "object") continue;
    setDefault(p, "protocol", "TCP");
    setDefault(p, "targetPort", p.port);
  }
}
