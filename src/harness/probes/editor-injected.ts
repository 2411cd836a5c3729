import { EDITOR_PORT } from "../../kubernetes/settings.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

export const editorInjected: Probe = {
  id: "editor.injected",
  async run({ ws }) {
    const url = ws.url(EDITOR_PORT, "/");
    const res = await ws.fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1] ?? "no <title>";
    if (res.status === 200 && /<html/i.test(body)) return supported(`GET ${url} → 200, page "${title}"`);
    return unsupported(`GET ${url} → ${res.status}: ${body.slice(0, 120)}`);
  },
};
