// The Kubernetes API simulator: API server, workload controllers and a kubelet, started together.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { bundleAgent } from "../../agent/bundle.ts";
import { buildEditorBundle } from "../../editor/bundle.ts";
import type { Arch } from "../../images/index.ts";
import { makeThrowawayCert } from "../../tunnel/certs.ts";
import { WorkloadControllers } from "./controllers.ts";
import { JobController } from "./job-controller.ts";
import { kubeconfigYaml } from "./kubeconfig.ts";
import { DockerBackend } from "./kubelet/docker-backend.ts";
import { Kubelet } from "./kubelet/kubelet.ts";
import { ProcessBackend, processKubeletUnavailable } from "./kubelet/process-backend.ts";
import { KubernetesApiServer } from "./server.ts";
import { ServiceControllers } from "./service-controllers.ts";
import { ObjectStore } from "./store.ts";

export interface KubernetesSimOptions {
  /** Where kubeconfig, pod folders and volumes go. */
  stateDir: string;
  port?: number;
  /** process (default): pods run as local processes; docker: as Docker containers; none: pods stay Pending. */
  kubelet?: "process" | "docker" | "none";
  /** The docker kubelet's node architecture (default: the host's); arm64 runs through QEMU. */
  nodeArch?: Arch;
  /** Host folders the process kubelet's pods see even under their private /tmp (read-only). */
  sharedHostPaths?: string[];
}

export interface KubernetesSim {
  url: string;
  token: string;
  caCert: string;
  kubeconfigPath: string;
  /** A client configuration for this simulator (what kubeconfigPath holds). */
  kubeConfig(): KubeConfig;
  store: ObjectStore;
  /** A connection to a port on a pod's localhost (what a Service or the workspace proxy reaches). */
  connect(namespace: string, pod: string, port: number): Promise<Duplex>;
  stop(): Promise<void>;
}

export async function startKubernetesSim(opts: KubernetesSimOptions): Promise<KubernetesSim> {
  mkdirSync(opts.stateDir, { recursive: true });
  const kubeletKind = opts.kubelet ?? "process";
  if (kubeletKind === "process") {
    const missing = processKubeletUnavailable();
    if (missing) throw new Error(`cannot start the simulator's process kubelet: ${missing}`);
  }
  // The tools injector installs the editor bundle into pods, and the process kubelet gives wsparity's tools
  // image its agent and editor: build both from the current sources.
  if (kubeletKind !== "none") await Promise.all([buildEditorBundle(), bundleAgent()]);
  // kubectl sends bearer tokens only over TLS: the same throwaway certificate maker as the tunnel's.
  const tls = await makeThrowawayCert("wsparity-sim.localtest");
  const store = new ObjectStore();
  const token = randomBytes(16).toString("hex");
  const backend =
    kubeletKind === "process"
      ? new ProcessBackend(opts.sharedHostPaths)
      : kubeletKind === "docker"
        ? new DockerBackend(opts.nodeArch)
        : undefined;
  const kubelet = backend ? new Kubelet(store, opts.stateDir, backend) : undefined;
  const controllers = new WorkloadControllers(store);
  const jobs = new JobController(store);
  const services = new ServiceControllers(store, {
    arch: opts.nodeArch ?? (process.arch === "arm64" ? "arm64" : "amd64"),
    ready: kubelet !== undefined,
  });
  const server = new KubernetesApiServer({ store, token, runtime: kubelet, tls });
  const url = await server.listen(opts.port ?? 0);
  const kubeconfigPath = join(opts.stateDir, "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, token, tls.cert), { mode: 0o600 });
  controllers.start();
  jobs.start();
  services.start();
  kubelet?.start();
  return {
    url,
    token,
    caCert: tls.cert,
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    store,
    connect(namespace, pod, port) {
      if (!kubelet) return Promise.reject(new Error("no kubelet runs pods in this simulator"));
      return kubelet.connect(namespace, pod, port);
    },
    async stop() {
      controllers.stop();
      jobs.stop();
      services.stop();
      await kubelet?.stop();
      await server.close();
    },
  };
}

export type { ExecProcess, PodRuntime } from "./runtime.ts";
export { KubernetesApiServer } from "./server.ts";
export { ObjectStore } from "./store.ts";
