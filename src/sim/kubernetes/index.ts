// The Kubernetes API simulator: API server, Deployment controller and a kubelet, started together.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubeconfigYaml } from "./kubeconfig.ts";
import type { PodRuntime } from "./runtime.ts";
import { KubernetesApiServer } from "./server.ts";
import { ObjectStore } from "./store.ts";
import { selfSignedCert } from "./tls.ts";

export interface KubernetesSimOptions {
  /** Where kubeconfig and pod folders go. */
  stateDir: string;
  port?: number;
  /** The kubelet that runs pods; without one, pods stay Pending. */
  runtime?: (store: ObjectStore) => PodRuntime & { start(): void; stop(): Promise<void> };
  controllers?: ((store: ObjectStore) => { start(): void; stop(): void })[];
}

export interface KubernetesSim {
  url: string;
  token: string;
  caCert: string;
  kubeconfigPath: string;
  store: ObjectStore;
  stop(): Promise<void>;
}

export async function startKubernetesSim(opts: KubernetesSimOptions): Promise<KubernetesSim> {
  const store = new ObjectStore();
  const token = randomBytes(16).toString("hex");
  const runtime = opts.runtime?.(store);
  const controllers = (opts.controllers ?? []).map((make) => make(store));
  const tls = selfSignedCert();
  if (!tls)
    throw new Error(
      "the openssl command is needed to make the simulator's serving certificate: apt-get install -y openssl",
    );
  const server = new KubernetesApiServer({ store, token, runtime, tls });
  const url = await server.listen(opts.port ?? 0);
  const kubeconfigPath = join(opts.stateDir, "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, token, tls.cert), { mode: 0o600 });
  for (const c of controllers) c.start();
  runtime?.start();
  return {
    url,
    token,
    caCert: tls.cert,
    kubeconfigPath,
    store,
    async stop() {
      for (const c of controllers) c.stop();
      await runtime?.stop();
      await server.close();
    },
  };
}

export type { ExecProcess, PodRuntime } from "./runtime.ts";
export { KubernetesApiServer } from "./server.ts";
export { ObjectStore } from "./store.ts";
