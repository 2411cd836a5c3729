// The Kubernetes simulator as a `wsparity sim up` service.
import { join } from "node:path";
import type { SimService } from "../up.ts";
import { type KubernetesSim, startKubernetesSim } from "./index.ts";

export const kubernetesService: SimService<KubernetesSim> = {
  name: "kubernetes",
  async start(ctx) {
    const sim = await startKubernetesSim({
      stateDir: join(ctx.stateDir, "kubernetes"),
      kubelet: ctx.kubelet,
    });
    return {
      handle: sim,
      env: { KUBECONFIG: sim.kubeconfigPath, KUBERNETES_URL: sim.url },
      usage: [
        `Kubernetes API simulator at ${sim.url} (kubeconfig ${sim.kubeconfigPath}); pods run as ${ctx.kubelet === "docker" ? "Docker containers" : "local processes"}`,
        `  kubectl apply --server-side -f <(wsparity devfile to-k8s DEVFILE) && kubectl get pods -A`,
      ],
      stop: () => sim.stop(),
    };
  },
};
