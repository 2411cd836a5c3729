import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import {
  type KubernetesSim,
  type KubernetesSimOptions,
  startKubernetesSim,
} from "../../src/sim/kubernetes/index.ts";

export interface SimHandle {
  sim: KubernetesSim;
  kc: KubeConfig;
  stateDir: string;
  stop(): Promise<void>;
}

export async function startSim(opts: Partial<KubernetesSimOptions> = {}): Promise<SimHandle> {
  const stateDir = mkdtempSync(join(tmpdir(), "wsparity-k8s-test-"));
  const sim = await startKubernetesSim({ stateDir, ...opts });
  const kc = sim.kubeConfig();
  return {
    sim,
    kc,
    stateDir,
    async stop() {
      await sim.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
