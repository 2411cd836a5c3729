// The Kubernetes path's workspace proxy as a `wsparity sim up` service: routes on the tunnel server's user listener.
import type { KubernetesSim } from "../sim/kubernetes/index.ts";
import type { SimService } from "../sim/up.ts";
import type { StartedTunnelServer } from "../tunnel/index.ts";
import { KubernetesWorkspaceProxy } from "./proxy.ts";

export const kubernetesProxyService: SimService<KubernetesWorkspaceProxy> = {
  name: "kubernetes-proxy",
  async start(ctx) {
    const sim = ctx.handle<KubernetesSim>("kubernetes");
    const tunnel = ctx.handle<StartedTunnelServer>("tunnel");
    const token = ctx.env.WORKSPACE_TOKEN;
    if (!token)
      throw new Error("the tunnel service must set WORKSPACE_TOKEN before the workspace proxy starts");
    const kc = sim.kubeConfig();
    const proxy = new KubernetesWorkspaceProxy({
      kc,
      routes: tunnel.routes,
      dial: sim.connect,
      userTokens: [token],
    });
    await proxy.start();
    return {
      handle: proxy,
      env: {},
      usage: [
        `Workspace proxy: each workspace's ports at ${tunnel.workspaceUrl("WORKSPACE", 60001).replace("60001-WORKSPACE", "<port>-<workspace>")}`,
        `  curl -H "Authorization: Bearer $WORKSPACE_TOKEN" --resolve 60001-<workspace>.${tunnel.domain}:${tunnel.userPort}:127.0.0.1 ${tunnel.workspaceUrl("<workspace>", 60001)}`,
      ],
      stop: async () => proxy.stop(),
    };
  },
};
