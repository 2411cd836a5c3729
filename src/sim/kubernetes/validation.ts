// kube-apiserver's validation of the served kinds (k8s.io/kubernetes pkg/apis/core/validation, pkg/apis/apps/validation,
// apimachinery's ObjectMeta validation), with its field paths and wording; a failure is 422 Invalid with one cause each.
// biome-ignore-all lint/suspicious/noExplicitAny: validation walks arbitrary Kubernetes objects
import type { KubeObject } from "../../kubernetes/objects.ts";
import type { Cause } from "./errors.ts";
import type { ResourceType } from "./resources.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
/** core.MaxSecretSize: the data of a ConfigMap or Secret, 1 MiB. */
const MAX_DATA_BYTES = 1024 * 1024;
/** apimachinery's TotalAnnotationSizeLimitB. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

const quote = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
const required = (field: string): Cause => ({
  reason: "FieldValueRequired",
  field,
  message: "Required value",
});
const badValue = (field: string, value: unknown, detail: string): Cause => ({
  reason: "FieldValueInvalid",
  field,
  message: `Invalid value: ${quote(value)}: ${detail}`,
});
const notSupported = (field: string, value: unknown, supported: string[]): Cause => ({
  reason: "FieldValueNotSupported",
  field,
  message: `Unsupported value: ${quote(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
});
const tooLong = (field: string, max: number): Cause => ({
  reason: "FieldValueTooLong",
  field,
  message: `Too long: must have at most ${max} bytes`,
});
const duplicate = (field: string, value: unknown): Cause => ({
  reason: "FieldValueDuplicate",
  field,
  message: `Duplicate value: ${quote(value)}`,
});

/** The causes that make an object invalid; empty when it is valid. */
export function validateObject(rt: ResourceType, o: KubeObject): Cause[] {
  const causes: Cause[] = [];
  validateMeta(rt, o, causes);
  const spec = o.spec ?? {};
  switch (rt.kind) {
    case "Pod":
      validatePodSpec(spec, "spec", causes);
      break;
    case "Job": {
      for (const field of ["parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"]) {
        if (typeof spec[field] === "number" && spec[field] < (field === "activeDeadlineSeconds" ? 1 : 0)) {
          const bound = field === "activeDeadlineSeconds" ? "greater than 0" : "greater than or equal to 0";
          causes.push(badValue(`spec.${field}`, spec[field], `must be ${bound}`));
        }
      }
      validateSelector(spec, causes);
      validatePodSpec(spec.template?.spec, "spec.template.spec", causes);
      const policy = spec.template?.spec?.restartPolicy;
      if (policy !== "OnFailure" && policy !== "Never") {
        causes.push(
          policy
            ? notSupported("spec.template.spec.restartPolicy", policy, ["OnFailure", "Never"])
            : {
                reason: "FieldValueRequired",
                field: "spec.template.spec.restartPolicy",
                message: 'Required value: valid values: "OnFailure", "Never"',
              },
        );
      }
      break;
    }
    case "Deployment":
    case "ReplicaSet":
      validateReplicas(spec, causes);
      validateSelector(spec, causes);
      validatePodSpec(spec.template?.spec, "spec.template.spec", causes);
      if (spec.template?.spec?.restartPolicy && spec.template.spec.restartPolicy !== "Always") {
        causes.push(
          notSupported("spec.template.spec.restartPolicy", spec.template.spec.restartPolicy, ["Always"]),
        );
      }
      break;
    case "Service":
      validateService(spec, causes);
      break;
    case "ConfigMap": {
      const size = dataSize(o.data) + dataSize(o.binaryData);
      if (size > MAX_DATA_BYTES) causes.push(tooLong("[]", MAX_DATA_BYTES));
      break;
    }
    case "Secret":
      if (dataSize(o.data, "base64") + dataSize(o.stringData) > MAX_DATA_BYTES) {
        causes.push(tooLong("data", MAX_DATA_BYTES));
      }
      break;
  }
  return causes;
}

function validateMeta(rt: ResourceType, o: KubeObject, causes: Cause[]): void {
  const name = o.metadata?.name ?? "";
  const dnsLabel = rt.kind === "Namespace" || rt.kind === "Service";
  if (!name)
    causes.push({
      ...required("metadata.name"),
      message: "Required value: name or generateName is required",
    });
  else if (dnsLabel && (!DNS_LABEL.test(name) || name.length > 63)) {
    causes.push(badValue("metadata.name", name, DNS_LABEL_MSG));
  } else if (!dnsLabel && (!DNS_SUBDOMAIN.test(name) || name.length > 253)) {
    causes.push(badValue("metadata.name", name, DNS_SUBDOMAIN_MSG));
  }
  if (rt.namespaced && !o.metadata.namespace) causes.push(required("metadata.namespace"));
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    const key = k.includes("/") ? k.slice(k.indexOf("/") + 1) : k;
    if (!QUALIFIED_NAME.test(key) || key.length > 63) {
      causes.push(
        badValue(
          "metadata.labels",
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) {
      causes.push(badValue("metadata.labels", v, LABEL_VALUE_MSG));
    }
  }
  const annotations = Object.entries(o.metadata?.annotations ?? {}).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  if (annotations > MAX_ANNOTATIONS_BYTES)
    causes.push(tooLong("metadata.annotations", MAX_ANNOTATIONS_BYTES));
}

function validateReplicas(spec: any, causes: Cause[]): void {
  if (typeof spec.replicas === "number" && spec.replicas < 0) {
    causes.push(badValue("spec.replicas", spec.replicas, "must be greater than or equal to 0"));
  }
}

function validateSelector(spec: any, causes: Cause[]): void {
  const sel = spec.selector?.matchLabels ?? {};
  const tpl = spec.template?.metadata?.labels ?? {};
  if (!spec.selector || (!Object.keys(sel).length && !spec.selector.matchExpressions?.length)) {
    causes.push(required("spec.selector"));
  } else if (!Object.entries(sel).every(([k, v]) => tpl[k] === v)) {
    causes.push(
      badValue("spec.template.metadata.labels", tpl, "`selector` does not match template `labels`"),
    );
  }
}

function validatePodSpec(spec: any, at: string, causes: Cause[]): void {
  if (!spec?.containers?.length) {
    causes.push(required(`${at}.containers`));
    return;
  }
  const names = new Set<string>();
  const all = [
    ...(spec.initContainers ?? []).map((c: any, i: number) => [c, `${at}.initContainers[${i}]`]),
    ...spec.containers.map((c: any, i: number) => [c, `${at}.containers[${i}]`]),
  ] as [any, string][];
  for (const [c, path] of all) {
    if (!c?.name) causes.push(required(`${path}.name`));
    else if (!DNS_LABEL.test(c.name) || c.name.length > 63)
      causes.push(badValue(`${path}.name`, c.name, DNS_LABEL_MSG));
    else if (names.has(c.name)) causes.push(duplicate(`${path}.name`, c.name));
    else names.add(c.name);
    if (!c?.image) causes.push(required(`${path}.image`));
    if (c?.imagePullPolicy && !PULL_POLICIES.includes(c.imagePullPolicy)) {
      causes.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
    }
    (c?.ports ?? []).forEach((p: any, i: number) => {
      if (!(p?.containerPort >= 1 && p.containerPort <= 65535)) {
        causes.push(
          badValue(
            `${path}.ports[${i}].containerPort`,
            p?.containerPort ?? 0,
            "must be between 1 and 65535, inclusive",
          ),
        );
      }
      if (p?.protocol && !PROTOCOLS.includes(p.protocol)) {
        causes.push(notSupported(`${path}.ports[${i}].protocol`, p.protocol, PROTOCOLS));
      }
    });
  }
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    if (!v?.name) causes.push(required(`${at}.volumes[${i}].name`));
    else if (volumes.has(v.name)) causes.push(duplicate(`${at}.volumes[${i}].name`, v.name));
    else volumes.add(v.name);
  });
  const restart = ["Always", "OnFailure", "Never"];
  if (spec.restartPolicy && !restart.includes(spec.restartPolicy)) {
    causes.push(notSupported(`${at}.restartPolicy`, spec.restartPolicy, restart));
  }
}

function validateService(spec: any, causes: Cause[]): void {
  const types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
  if (spec.type && !types.includes(spec.type)) causes.push(notSupported("spec.type", spec.type, types));
  if (spec.type !== "ExternalName" && !spec.ports?.length && spec.clusterIP !== "None") {
    causes.push(required("spec.ports"));
  }
  (spec.ports ?? []).forEach((p: any, i: number) => {
    if (!(p?.port >= 1 && p.port <= 65535)) {
      causes.push(badValue(`spec.ports[${i}].port`, p?.port ?? 0, "must be between 1 and 65535, inclusive"));
    }
    if ((spec.ports.length > 1 || p?.name) && p?.name && !DNS_LABEL.test(p.name)) {
      causes.push(badValue(`spec.ports[${i}].name`, p.name, DNS_LABEL_MSG));
    }
    if (spec.ports.length > 1 && !p?.name) causes.push(required(`spec.ports[${i}].name`));
  });
}

function dataSize(data: Record<string, unknown> | undefined, encoding?: "base64"): number {
  let n = 0;
  for (const [k, v] of Object.entries(data ?? {})) {
    n +=
      Buffer.byteLength(k) +
      (encoding ? Buffer.from(String(v), "base64").length : Buffer.byteLength(String(v)));
  }
  return n;
}

/** Fields an ephemeral container may not set (pkg/apis/core/validation: validateEphemeralContainers). */
const NOT_FOR_EPHEMERAL = [
  "ports",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
  "resources",
];

/** An update of pods/ephemeralcontainers: existing ones stay as they are, new ones are valid containers. */
export function ephemeralContainerCauses(pod: KubeObject, before: any[], after: any[]): Cause[] {
  const causes: Cause[] = [];
  const at = "spec.ephemeralContainers";
  for (const old of before.filter((b) => !after.some((a) => a?.name === b.name))) {
    causes.push({
      reason: "FieldValueForbidden",
      field: at,
      message: `Forbidden: existing ephemeral containers ${quote(old.name)} may not be removed`,
    });
  }
  const names = new Set<string>(
    [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: any) => c.name),
  );
  after.forEach((c, i) => {
    const path = `${at}[${i}]`;
    const old = before.find((b) => b.name === c?.name);
    if (old) {
      if (JSON.stringify(old) !== JSON.stringify(c)) {
        causes.push({
          reason: "FieldValueForbidden",
          field: at,
          message: `Forbidden: existing ephemeral containers ${quote(c.name)} may not be changed`,
        });
      }
      names.add(c.name);
      return;
    }
    if (!c?.name) causes.push(required(`${path}.name`));
    else if (!DNS_LABEL.test(c.name) || c.name.length > 63)
      causes.push(badValue(`${path}.name`, c.name, DNS_LABEL_MSG));
    else if (names.has(c.name)) causes.push(duplicate(`${path}.name`, c.name));
    else names.add(c.name);
    if (!c?.image) causes.push(required(`${path}.image`));
    for (const field of NOT_FOR_EPHEMERAL) {
      if (c?.[field] !== undefined && !(field === "resources" && Object.keys(c.resources).length === 0)) {
        causes.push({
          reason: "FieldValueForbidden",
          field: `${path}.${field}`,
          message: "Forbidden: cannot be set for an Ephemeral Container",
        });
      }
    }
    const target = c?.targetContainerName;
    if (target && !(pod.spec?.containers ?? []).some((x: any) => x.name === target)) {
      causes.push({
        reason: "FieldValueNotFound",
        field: `${path}.targetContainerName`,
        message: `Not found: ${quote(target)}`,
      });
    }
  });
  return causes;
}
