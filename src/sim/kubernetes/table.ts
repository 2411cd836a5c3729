// Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for.
import type { KubeObject } from "../../kubernetes/objects.ts";
import type { ResourceType } from "./resources.ts";

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KubeObject) => unknown;
}

const nameColumn: Column = { name: "Name", type: "string", format: "name", cell: (o) => o.metadata.name };
/** kubectl get -o wide's columns for workloads: the pod template's containers and images, and the selector. */
const templateColumns: Column[] = [
  {
    name: "Containers",
    type: "string",
    priority: 1,
    cell: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: { name: string }) => c.name).join(","),
  },
  {
    name: "Images",
    type: "string",
    priority: 1,
    cell: (o) => (o.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image).join(","),
  },
  {
    name: "Selector",
    type: "string",
    priority: 1,
    cell: (o) =>
      Object.entries(o.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
  },
];
const ageColumn: Column = { name: "Age", type: "string", cell: (o) => age(o.metadata.creationTimestamp) };

function columnsFor(rt: ResourceType): Column[] {
  switch (rt.kind) {
    case "Pod":
      return [
        nameColumn,
        {
          name: "Ready",
          type: "string",
          cell: (o) => {
            const s = o.status?.containerStatuses ?? [];
            return `${s.filter((c: { ready: boolean }) => c.ready).length}/${o.spec?.containers?.length ?? 0}`;
          },
        },
        { name: "Status", type: "string", cell: podStatusText },
        {
          name: "Restarts",
          type: "string",
          cell: (o) =>
            String(
              (o.status?.containerStatuses ?? []).reduce(
                (n: number, c: { restartCount?: number }) => n + (c.restartCount ?? 0),
                0,
              ),
            ),
        },
        ageColumn,
        { name: "IP", type: "string", priority: 1, cell: (o) => o.status?.podIP ?? "<none>" },
        { name: "Node", type: "string", priority: 1, cell: (o) => o.spec?.nodeName ?? "<none>" },
      ];
    case "Deployment":
      return [
        nameColumn,
        {
          name: "Ready",
          type: "string",
          cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
        },
        { name: "Up-to-date", type: "integer", cell: (o) => o.status?.updatedReplicas ?? 0 },
        { name: "Available", type: "integer", cell: (o) => o.status?.availableReplicas ?? 0 },
        ageColumn,
        ...templateColumns,
      ];
    case "ReplicaSet":
      return [
        nameColumn,
        { name: "Desired", type: "integer", cell: (o) => o.spec?.replicas ?? 0 },
        { name: "Current", type: "integer", cell: (o) => o.status?.replicas ?? 0 },
        { name: "Ready", type: "integer", cell: (o) => o.status?.readyReplicas ?? 0 },
        ageColumn,
        ...templateColumns,
      ];
    case "Job":
      return [
        nameColumn,
        { name: "Status", type: "string", cell: jobStatusText },
        {
          name: "Completions",
          type: "string",
          cell: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`,
        },
        { name: "Duration", type: "string", cell: jobDuration },
        ageColumn,
        ...templateColumns,
      ];
    case "Node":
      return [
        nameColumn,
        {
          name: "Status",
          type: "string",
          cell: (o) =>
            (o.status?.conditions ?? []).some(
              (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
            )
              ? "Ready"
              : "NotReady",
        },
        {
          name: "Roles",
          type: "string",
          cell: (o) =>
            Object.keys(o.metadata.labels ?? {})
              .filter((k) => k.startsWith("node-role.kubernetes.io/"))
              .map((k) => k.slice("node-role.kubernetes.io/".length))
              .join(",") || "<none>",
        },
        ageColumn,
        { name: "Version", type: "string", cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? "" },
      ];
    case "Service":
      return [
        nameColumn,
        { name: "Type", type: "string", cell: (o) => o.spec?.type ?? "ClusterIP" },
        { name: "Cluster-IP", type: "string", cell: (o) => o.spec?.clusterIP ?? "<none>" },
        {
          name: "Port(s)",
          type: "string",
          cell: (o) =>
            (o.spec?.ports ?? [])
              .map((p: { port: number; protocol?: string }) => `${p.port}/${p.protocol ?? "TCP"}`)
              .join(",") || "<none>",
        },
        ageColumn,
      ];
    case "Namespace":
      return [
        nameColumn,
        { name: "Status", type: "string", cell: (o) => o.status?.phase ?? "Active" },
        ageColumn,
      ];
    case "Event":
      return [
        {
          name: "Last Seen",
          type: "string",
          cell: (o) => age(o.lastTimestamp ?? o.metadata.creationTimestamp),
        },
        { name: "Type", type: "string", cell: (o) => o.type },
        { name: "Reason", type: "string", cell: (o) => o.reason },
        {
          name: "Object",
          type: "string",
          cell: (o) => `${o.involvedObject?.kind?.toLowerCase()}/${o.involvedObject?.name}`,
        },
        { name: "Message", type: "string", cell: (o) => o.message },
      ];
    default:
      return [nameColumn, ageColumn];
  }
}

/** kubectl's Job status: the finishing condition, else Suspended or Running. */
function jobStatusText(o: KubeObject): string {
  const conditions: { type: string; status: string }[] = o.status?.conditions ?? [];
  const has = (t: string) => conditions.some((c) => c.type === t && c.status === "True");
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (o.metadata.deletionTimestamp) return "Terminating";
  if (has("Suspended")) return "Suspended";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

function jobDuration(o: KubeObject): string {
  const start = o.status?.startTime;
  if (!start) return "";
  const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : Date.now();
  const s = Math.max(0, Math.round((end - Date.parse(start)) / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}

export function podStatusText(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return "Terminating";
  type Status = {
    state?: { waiting?: { reason?: string }; terminated?: { exitCode?: number; reason?: string } };
  };
  const init: Status[] = o.status?.initContainerStatuses ?? [];
  const done = init.filter((s) => s.state?.terminated?.exitCode === 0).length;
  if (done < init.length) {
    const stuck = init.find((s) => s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing");
    return stuck ? `Init:${stuck.state!.waiting!.reason}` : `Init:${done}/${init.length}`;
  }
  for (const s of (o.status?.containerStatuses ?? []) as Status[]) {
    if (s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing")
      return s.state.waiting.reason;
    if (s.state?.terminated?.reason === "Error") return "Error";
  }
  return o.status?.phase ?? "Pending";
}

export function toTable(
  rt: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  includeObject: string,
) {
  const cols = columnsFor(rt);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object:
        includeObject === "Object"
          ? o
          : includeObject === "None"
            ? undefined
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

function age(timestamp: string | null | undefined): string {
  if (!timestamp) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
