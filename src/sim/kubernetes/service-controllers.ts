// The node object, and the endpoints and EndpointSlice controllers as kube-controller-manager runs them: a Service
// with a selector gets an Endpoints object and an EndpointSlice listing its ready pods' IPs and target ports.
import { createHash } from "node:crypto";
import type { KubeObject } from "../../kubernetes/objects.ts";
import { NODE_NAME } from "./controllers.ts";
import { ApiError } from "./errors.ts";
import { RESOURCE_TYPES, type ResourceType } from "./resources.ts";
import { matchLabels } from "./selectors.ts";
import type { ObjectStore } from "./store.ts";

const type = (kind: string): ResourceType => RESOURCE_TYPES.find((r) => r.kind === kind)!;
const SERVICE = type("Service");
const POD = type("Pod");
const ENDPOINTS = type("Endpoints");
const ENDPOINT_SLICE = type("EndpointSlice");
const NODE = type("Node");

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export class ServiceControllers {
  private unsubscribe: (() => void)[] = [];
  private readonly pending = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly node: { arch: string; ready: boolean },
  ) {}

  start(): void {
    this.registerNode();
    this.unsubscribe = [
      this.store.onChange(SERVICE, (e) => this.enqueue(e.object.metadata.namespace!)),
      this.store.onChange(POD, (e) => this.enqueue(e.object.metadata.namespace!)),
    ];
    for (const svc of this.store.list(SERVICE, undefined)) this.enqueue(svc.metadata.namespace!);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  private registerNode(): void {
    if (this.store.find(NODE, undefined, NODE_NAME)) return;
    const node = this.store.create(NODE, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: NODE_NAME,
        labels: {
          "kubernetes.io/hostname": NODE_NAME,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": this.node.arch,
          "node-role.kubernetes.io/control-plane": "",
        },
      },
      spec: {},
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    node.status = {
      conditions: [
        {
          type: "Ready",
          status: this.node.ready ? "True" : "False",
          reason: this.node.ready ? "KubeletReady" : "KubeletNotReady",
          message: this.node.ready ? "kubelet is posting ready status" : "no kubelet runs on this node",
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      addresses: [
        { type: "InternalIP", address: "127.0.0.1" },
        { type: "Hostname", address: NODE_NAME },
      ],
      nodeInfo: {
        architecture: this.node.arch,
        operatingSystem: "linux",
        kubeletVersion: "v1.32.0-wsparity-sim",
        containerRuntimeVersion: "wsparity-sim",
        kernelVersion: "",
        osImage: "wsparity simulator",
        kubeProxyVersion: "",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    };
    this.store.update(NODE, node, { status: true });
  }

  private enqueue(namespace: string): void {
    this.pending.add(namespace);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const namespaces = [...this.pending];
      this.pending.clear();
      for (const ns of namespaces) {
        for (const svc of this.store.list(SERVICE, ns)) {
          try {
            this.sync(svc);
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
          }
        }
      }
    });
  }

  private sync(svc: KubeObject): void {
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (!selector || !Object.keys(selector).length || svc.metadata.deletionTimestamp) return;
    const { name, namespace } = svc.metadata;
    const pods = this.store
      .list(POD, namespace, undefined, true)
      .filter(
        (p) => matchLabels(selector, p.metadata.labels) && p.status?.podIP && !p.metadata.deletionTimestamp,
      );
    const ready = pods.filter((p) =>
      (p.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
      ),
    );
    const ports = ((svc.spec.ports ?? []) as ServicePort[]).map((sp) => ({
      ...(sp.name ? { name: sp.name } : {}),
      port: resolveTargetPort(sp, pods[0]),
      protocol: sp.protocol ?? "TCP",
    }));
    const address = (p: KubeObject) => ({
      ip: p.status.podIP,
      nodeName: p.spec?.nodeName,
      targetRef: { kind: "Pod", name: p.metadata.name, namespace, uid: p.metadata.uid },
    });
    const notReady = pods.filter((p) => !ready.includes(p));
    const subsets = pods.length
      ? [
          {
            ...(ready.length ? { addresses: ready.map(address) } : {}),
            ...(notReady.length ? { notReadyAddresses: notReady.map(address) } : {}),
            ports,
          },
        ]
      : undefined;
    const owner = {
      apiVersion: "v1",
      kind: "Service",
      name,
      uid: svc.metadata.uid!,
      controller: true,
      blockOwnerDeletion: true,
    };
    this.put(ENDPOINTS, {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name, namespace, labels: { ...svc.metadata.labels }, ownerReferences: [owner] },
      ...(subsets ? { subsets } : {}),
    });
    const sliceName = `${name}-${createHash("sha256").update(svc.metadata.uid!).digest("hex").slice(0, 5)}`;
    this.put(ENDPOINT_SLICE, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: sliceName,
        namespace,
        labels: {
          "kubernetes.io/service-name": name,
          "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        },
        ownerReferences: [owner],
      },
      addressType: "IPv4",
      endpoints: pods.map((p) => ({
        addresses: [p.status.podIP],
        conditions: { ready: ready.includes(p), serving: ready.includes(p), terminating: false },
        nodeName: p.spec?.nodeName,
        targetRef: { kind: "Pod", name: p.metadata.name, namespace, uid: p.metadata.uid },
      })),
      ports,
    });
  }

  /** Creates or replaces an object when its content differs from what is stored. */
  private put(rt: ResourceType, wanted: KubeObject): void {
    const live = this.store.find(rt, wanted.metadata.namespace, wanted.metadata.name);
    if (!live) {
      this.store.create(rt, wanted);
      return;
    }
    const { metadata: _m, ...liveBody } = live;
    const { metadata: _w, ...wantedBody } = wanted;
    if (
      JSON.stringify(liveBody) ===
      JSON.stringify({ ...wantedBody, apiVersion: live.apiVersion, kind: live.kind })
    ) {
      return;
    }
    this.store.update(rt, { ...wanted, metadata: { ...live.metadata, ...wanted.metadata } });
  }
}

/** A Service port's target: its number, or the pod's container port of that name (else the Service port). */
function resolveTargetPort(sp: ServicePort, pod: KubeObject | undefined): number {
  if (typeof sp.targetPort === "number") return sp.targetPort;
  if (typeof sp.targetPort === "string" && pod) {
    for (const c of pod.spec?.containers ?? []) {
      const named = (c.ports ?? []).find((p: { name?: string }) => p.name === sp.targetPort);
      if (named) return named.containerPort;
    }
  }
  return sp.port;
}
