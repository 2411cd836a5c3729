// Pod volumes as host folders: claims persist per namespace, emptyDirs live with the pod, and configMap,
// secret and projected volumes are written out as files.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { KubeObject } from "../../../kubernetes/objects.ts";
import { RESOURCE_TYPES } from "../resources.ts";
import type { ObjectStore } from "../store.ts";

const CONFIG_MAP = RESOURCE_TYPES.find((r) => r.kind === "ConfigMap")!;
const SECRET = RESOURCE_TYPES.find((r) => r.kind === "Secret")!;
const CLAIM = RESOURCE_TYPES.find((r) => r.kind === "PersistentVolumeClaim")!;

export class MountFailed extends Error {}

export function claimDir(stateDir: string, namespace: string, claim: string): string {
  return join(stateDir, "volumes", namespace, claim);
}

/** Makes every volume of the pod; returns volume name -> host folder. Throws MountFailed while a source is missing. */
export function prepareVolumes(
  store: ObjectStore,
  pod: KubeObject,
  stateDir: string,
  podDir: string,
): Map<string, string> {
  const ns = pod.metadata.namespace!;
  const out = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.persistentVolumeClaim) {
      const claim = store.find(CLAIM, ns, v.persistentVolumeClaim.claimName);
      if (!claim)
        throw new MountFailed(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
      const dir = claimDir(stateDir, ns, v.persistentVolumeClaim.claimName);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      out.set(v.name, dir);
      continue;
    }
    const dir = join(podDir, "volumes", v.name);
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    } else if (v.configMap || v.secret || v.projected) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const sources = v.projected?.sources ?? [
        v.configMap ? { configMap: v.configMap } : { secret: v.secret },
      ];
      const mode = v.projected?.defaultMode ?? v.configMap?.defaultMode ?? v.secret?.defaultMode ?? 0o644;
      for (const src of sources) writeSource(store, ns, src, dir, mode);
      chmodSync(dir, 0o755);
    } else {
      throw new MountFailed(`volume "${v.name}" has a type the process kubelet does not support`);
    }
    out.set(v.name, dir);
  }
  return out;
}

function writeSource(
  store: ObjectStore,
  ns: string,
  src: { configMap?: SourceRef; secret?: SourceRef },
  dir: string,
  mode: number,
) {
  const ref = src.configMap ?? src.secret;
  if (!ref) return;
  const kind = src.configMap ? CONFIG_MAP : SECRET;
  const o = store.find(kind, ns, ref.name);
  if (!o) {
    if (ref.optional) return;
    throw new MountFailed(`${kind.singular} "${ref.name}" not found`);
  }
  const files = new Map<string, Buffer>();
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
    files.set(k, src.secret ? Buffer.from(v, "base64") : Buffer.from(v));
  }
  for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, string>))
    files.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>))
    files.set(k, Buffer.from(v, "base64"));
  const items: { key: string; path: string; mode?: number }[] =
    ref.items ?? [...files.keys()].map((key) => ({ key, path: key }));
  for (const item of items) {
    const data = files.get(item.key);
    if (!data) continue;
    const file = join(dir, item.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
    chmodSync(file, item.mode ?? mode);
  }
}

interface SourceRef {
  name: string;
  optional?: boolean;
  items?: { key: string; path: string; mode?: number }[];
  defaultMode?: number;
}
