import { stringify } from "yaml";

/** A kubeconfig that points kubectl and client-node at the simulator with a bearer token. */
export function kubeconfigYaml(
  server: string,
  token: string,
  caCert?: string,
  namespace = "default",
): string {
  const ca = caCert ? { "certificate-authority-data": Buffer.from(caCert).toString("base64") } : {};
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "wsparity-sim", cluster: { server, ...ca } }],
    users: [{ name: "wsparity-sim", user: { token } }],
    contexts: [
      { name: "wsparity-sim", context: { cluster: "wsparity-sim", user: "wsparity-sim", namespace } },
    ],
    "current-context": "wsparity-sim",
    preferences: {},
  });
}
