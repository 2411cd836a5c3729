// The API server's serving certificate. It is self-signed (its own CA, which the kubeconfig carries) and names
// every address clients dial: localhost, 127.0.0.1, the listen address and the host of the server URL written into
// the kubeconfig (kubernetes-sim inside compose), so kubectl, client-node and agentk in other containers verify it.
import { type SelfSignedCert, selfSignedCert } from "../../util/self-signed-cert.ts";

export type ServingCert = SelfSignedCert;

/** The names the simulator's certificate always carries, whatever else it is given. */
export const ALWAYS_SERVED_NAMES = [
  "localhost",
  "127.0.0.1",
  "wsparity-sim.localtest",
  "*.wsparity-sim.localtest",
];

/** Valid for a year: it is made again at every start, and a simulator in a compose stack may run for weeks. */
export function makeServingCert(names: string[]): Promise<ServingCert> {
  return selfSignedCert({
    what: "the simulator's serving certificate",
    subject: "wsparity Kubernetes API simulator",
    names: [...ALWAYS_SERVED_NAMES, ...names],
    days: 365,
  });
}
