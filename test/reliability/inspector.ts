// The V8 inspector of a server process the test started with --inspect=127.0.0.1:0: force a full garbage
// collection and read the JS heap, so memory figures tell retained objects from GC slack, and take heap
// snapshots to see what is retained. Chrome DevTools Protocol over WebSocket (ws).

import { WebSocket } from "ws";

export interface Inspector {
  /** A full collection (HeapProfiler.collectGarbage), twice, so weak and finalised objects go too. */
  collectGarbage(): Promise<void>;
  /** JS heap in use after the last collection, in MiB (Runtime.getHeapUsage). */
  heapUsedMiB(): Promise<number>;
  /** Live objects per constructor name in a full heap snapshot. */
  objectCounts(): Promise<Map<string, number>>;
  close(): void;
}

/** Waits for the inspector's URL on the process's stderr ("Debugger listening on ws://…"). */
export async function inspectorOf(stderr: () => string, timeoutMs = 10_000): Promise<Inspector> {
  const deadline = Date.now() + timeoutMs;
  const found = () => /Debugger listening on (ws:\/\/\S+)/.exec(stderr())?.[1];
  let url = found();
  while (!url) {
    if (Date.now() > deadline) throw new Error(`no inspector URL on stderr within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
    url = found();
  }
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  const events = new Map<string, (params: unknown) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as {
      id?: number;
      result?: unknown;
      method?: string;
      params?: unknown;
    };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
    else if (message.method) events.get(message.method)?.(message.params);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await call("HeapProfiler.collectGarbage");
      await call("HeapProfiler.collectGarbage");
    },
    async heapUsedMiB() {
      const usage = (await call("Runtime.getHeapUsage")) as { usedSize: number };
      return usage.usedSize / 1024 / 1024;
    },
    async objectCounts() {
      const chunks: string[] = [];
      events.set("HeapProfiler.addHeapSnapshotChunk", (p) => chunks.push((p as { chunk: string }).chunk));
      await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      events.delete("HeapProfiler.addHeapSnapshotChunk");
      const snapshot = JSON.parse(chunks.join("")) as {
        snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
        nodes: number[];
        strings: string[];
      };
      const fields = snapshot.snapshot.meta.node_fields;
      const width = fields.length;
      const typeAt = fields.indexOf("type");
      const nameAt = fields.indexOf("name");
      const types = snapshot.snapshot.meta.node_types[0];
      const counts = new Map<string, number>();
      for (let i = 0; i < snapshot.nodes.length; i += width) {
        const type = types[snapshot.nodes[i + typeAt]!];
        if (type !== "object" && type !== "closure") continue;
        const name = `${type === "closure" ? "closure " : ""}${snapshot.strings[snapshot.nodes[i + nameAt]!]}`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return counts;
    },
    close: () => socket.close(),
  };
}
