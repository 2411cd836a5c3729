// The process kubelet's pod sandbox in a deep folder: a CI job's checkout (builds/<job>/root/<project>/
// parts/<part>/.state/…) puts a pod's folder past the 107 bytes a unix socket path may have, where two
// pods' socket paths that differ only further on would be bound as one.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PodSandbox } from "../../src/sim/kubernetes/kubelet/backend.ts";
import {
  ProcessBackend,
  processKubeletUnavailable,
} from "../../src/sim/kubernetes/kubelet/process-backend.ts";

const unavailable = processKubeletUnavailable();
const root = mkdtempSync(join(tmpdir(), "wsparity-deep-pods-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sandboxDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith("wsparity-sandbox-"));

describe("process kubelet sandbox", () => {
  it.skipIf(unavailable)(
    `gives each pod of a folder too deep for a socket path its own sandbox, and leaves nothing behind${unavailable ? ` (${unavailable})` : ""}`,
    async () => {
      const deep = join(
        root,
        "builds/881957/root/wsparity/parts/sim-reference-amd64/.state/kubernetes-amd64/pods",
      );
      expect(Buffer.byteLength(deep)).toBeGreaterThan(107);
      const before = sandboxDirs();
      const backend = new ProcessBackend();
      const sandboxes: PodSandbox[] = [];
      for (const name of ["restarted-pod-a", "restarted-pod-b"]) {
        const dir = join(deep, name);
        mkdirSync(dir, { recursive: true });
        sandboxes.push(
          await backend.startSandbox({ metadata: { name, namespace: "default" } } as never, dir),
        );
      }
      // A port nothing listens on in each pod: each pod's own sandbox answers that the port refused.
      for (const sandbox of sandboxes)
        await expect(sandbox.dial(1)).rejects.toThrow("port 1 in the pod: ERR ECONNREFUSED");
      for (const sandbox of sandboxes) await sandbox.remove();
      expect(sandboxDirs().filter((d) => !before.includes(d))).toEqual([]);
    },
  );
});
