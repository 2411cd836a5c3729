import { stringify } from "yaml";
import type { KubeObject } from "./objects.ts";

/** Objects as a multi-document YAML stream, as `kubectl apply -f` reads it. */
export function toYamlStream(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join("");
}
