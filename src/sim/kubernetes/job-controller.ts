// The Job controller, as kube-controller-manager runs it for batch/v1 Jobs (pkg/controller/job): pods from the template
// until `completions` succeed, at most `parallelism` at a time; past `backoffLimit` failures the Job fails and its
// running pods are removed. Conditions and counts are the ones kubectl reads (`kubectl wait --for=condition=complete`,
// `kubectl get jobs`). Not done: indexed completion, pod failure and success policies, suspend, active deadlines,
// the back-off delay between failed pods (a new pod starts at once).
import { randomBytes } from "node:crypto";
import type { KubeObject } from "../../kubernetes/objects.ts";
import { isPodReady, ownedBy, ownerRef } from "./controllers.ts";
import { ApiError } from "./errors.ts";
import { RESOURCE_TYPES, type ResourceType } from "./resources.ts";
import type { ObjectStore } from "./store.ts";

const type = (kind: string): ResourceType => RESOURCE_TYPES.find((r) => r.kind === kind)!;
const JOB = type("Job");
const POD = type("Pod");

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: string;
  lastTransitionTime: string;
}

export class JobController {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly store: ObjectStore) {}

  start(): void {
    this.unsubscribe = [
      this.store.onChange(JOB, (e) => this.enqueue(e.object.metadata.namespace!, e.object.metadata.name)),
      this.store.onChange(POD, (e) => {
        for (const ref of e.object.metadata.ownerReferences ?? []) {
          if (ref.kind === "Job" && ref.controller) this.enqueue(e.object.metadata.namespace!, ref.name);
        }
      }),
    ];
    for (const job of this.store.list(JOB, undefined))
      this.enqueue(job.metadata.namespace!, job.metadata.name);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  private enqueue(namespace: string, name: string): void {
    this.pending.add(`${namespace}/${name}`);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      const [namespace, name] = key.split("/") as [string, string];
      try {
        this.sync(namespace, name);
      } catch (err) {
        // A conflict means another writer got there first: the watch brings the object back.
        if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
        if (err.code === 409) this.enqueue(namespace, name);
      }
    }
  }

  private sync(namespace: string, name: string): void {
    const job = this.store.find(JOB, namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const pods = this.store.list(POD, namespace).filter((p) => ownedBy(p, job));
    const phase = (p: KubeObject) => p.status?.phase;
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const active = live.filter((p) => phase(p) !== "Succeeded" && phase(p) !== "Failed");
    const succeeded = pods.filter((p) => phase(p) === "Succeeded").length;
    const failed = pods.filter((p) => phase(p) === "Failed").length;
    const conditions: Condition[] = structuredClone(job.status?.conditions ?? []);
    const has = (t: string) => conditions.some((c) => c.type === t && c.status === "True");
    const finished = has("Complete") || has("Failed");
    const completions: number = job.spec.completions ?? job.spec.parallelism ?? 1;
    const add = (t: string, reason: string, message: string) => {
      if (has(t)) return;
      const at = now();
      conditions.push({
        type: t,
        status: "True",
        reason,
        message,
        lastProbeTime: at,
        lastTransitionTime: at,
      });
    };
    let completionTime = job.status?.completionTime;
    if (!finished && failed > (job.spec.backoffLimit ?? 6)) {
      add("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
      add("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
    } else if (!finished && succeeded >= completions) {
      add("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods");
      add("Complete", "CompletionsReached", "Reached expected number of succeeded pods");
      completionTime = now();
    }
    const done = has("Complete") || has("Failed");
    let created = 0;
    if (done) {
      for (const p of active) this.store.delete(POD, namespace, p.metadata.name);
    } else {
      const want = Math.min(job.spec.parallelism ?? 1, completions - succeeded) - active.length;
      for (; created < want; created++) this.createPod(job);
    }
    const running = done ? [] : active;
    const status = {
      ...(conditions.length ? { conditions } : {}),
      startTime: job.status?.startTime ?? now(),
      ...(completionTime ? { completionTime } : {}),
      // active, succeeded and failed are omitempty in the Go type; ready and terminating are pointers.
      ...(running.length + created ? { active: running.length + created } : {}),
      ready: running.filter(isPodReady).length,
      ...(succeeded ? { succeeded } : {}),
      ...(failed ? { failed } : {}),
      terminating: pods.filter((p) => p.metadata.deletionTimestamp).length,
      uncountedTerminatedPods: {},
    };
    if (JSON.stringify(job.status) !== JSON.stringify(status)) {
      this.store.update(JOB, { ...job, status }, { status: true });
    }
  }

  private createPod(job: KubeObject): void {
    const name = job.metadata.name;
    this.store.create(POD, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...structuredClone(job.spec.template.metadata ?? {}),
        name: `${name}-${randomBytes(3).toString("hex").slice(0, 5)}`,
        namespace: job.metadata.namespace,
        ownerReferences: [ownerRef(job)],
      },
      spec: structuredClone(job.spec.template.spec),
    });
  }
}
