// The Kubernetes API simulator: API server, workload controllers and a kubelet, started together.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { bundleAgent } from "../../agent/bundle.ts";
import { buildEditorBundle } from "../../editor/bundle.ts";
import type { Arch } from "../../images/index.ts";
import { WorkloadControllers } from "./controllers.ts";
import { JobController } from "./job-controller.ts";
import { kubeconfigYaml } from "./kubeconfig.ts";
import { DockerBackend } from "./kubelet/docker-backend.ts";
import { Kubelet } from "./kubelet/kubelet.ts";
import { ProcessBackend, processKubeletUnavailable } from "./kubelet/process-backend.ts";
import { KubernetesApiServer } from "./server.ts";
import { ServiceControllers } from "./service-controllers.ts";
import { makeServingCert } from "./serving-cert.ts";
import { ObjectStore } from "./store.ts";

export interface KubernetesSimOptions {
  /** Where kubeconfig, pod folders and volumes go. */
  stateDir: string;
  /** The listen address (default 127.0.0.1; 0.0.0.0 to serve other containers). */
  host?: string;
  port?: number;
  /**
   * The server the kubeconfig gives clients (default: the listen address, 127.0.0.1 when listening on every
   * interface; without a port, the port listened on). Its host is one of the names the serving certificate carries.
   */
  server?: { host: string; port?: number };
  /** Where the kubeconfig goes (default STATE_DIR/kubeconfig); written only once the server listens. */
  kubeconfigPath?: string;
  /** process (default): pods run as local processes; docker: as Docker containers; none: pods stay Pending. */
  kubelet?: "process" | "docker" | "none";
  /** The docker kubelet's node architecture (default: the host's); arm64 runs through QEMU. */
  nodeArch?: Arch;
  /** Host folders the process kubelet's pods see even under their private /tmp (read-only). */
  sharedHostPaths?: string[];
}

export interface KubernetesSim {
  /** The server URL clients are given (the kubeconfig's). */
  url: string;
  /** Where the API server listens (the port chosen when 0 was asked for). */
  listening: { host: string; port: number };
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
  // kubectl sends bearer tokens only over TLS.
  const host = opts.host ?? "127.0.0.1";
  const tls = await makeServingCert([host, ...(opts.server ? [opts.server.host] : [])]);
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
  const listening = { host, port: Number(new URL(await server.listen(opts.port ?? 0, host)).port) };
  const url = opts.server
    ? httpsUrl(opts.server.host, opts.server.port ?? listening.port)
    : httpsUrl(
        listening.host === "0.0.0.0" || listening.host === "::" ? "127.0.0.1" : listening.host,
        listening.port,
      );
  const kubeconfigPath = opts.kubeconfigPath ?? join(opts.stateDir, "kubeconfig");
  writeKubeconfig(kubeconfigPath, kubeconfigYaml(url, token, tls.cert));
  controllers.start();
  jobs.start();
  services.start();
  kubelet?.start();
  return {
    url,
    listening,
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

const httpsUrl = (host: string, port: number) => `https://${host.includes(":") ? `[${host}]` : host}:${port}`;

/**
 * Owner-only (it holds the bearer token; root in other containers still reads it), and renamed into place so
 * a container waiting for the file never reads half of it.
 */
function writeKubeconfig(path: string, yaml: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, yaml, { mode: 0o600 });
  renameSync(partial, path);
}

export type { ExecProcess, PodRuntime } from "./runtime.ts";
export { KubernetesApiServer } from "./server.ts";
export { ObjectStore } from "./store.ts";
