// A PodDialer for a proxy outside the cluster. GitLab's workspaces proxy runs inside the cluster and dials the
// workspace Service's endpoints (pod IPs) directly; a process outside the cluster (another container of the
// compose stack) cannot route to pod IPs, and the public way in is the API server's pods/portforward
// subresource, which kubectl port-forward also uses. client-node's PortForward speaks its WebSocket protocol.
import { Duplex, PassThrough, Writable } from "node:stream";
import { type KubeConfig, PortForward } from "@kubernetes/client-node";
import type { WebSocket } from "ws";
import type { PodDialer } from "./upstream.ts";

/** How long the API server may take to accept the port-forward upgrade. */
const UPGRADE_TIMEOUT_MS = 10_000;

export function portForwardDialer(kc: KubeConfig): PodDialer {
  const forwarder = new PortForward(kc);
  return (namespace, pod, port) =>
    new Promise<Duplex>((resolve, reject) => {
      const toPod = new PassThrough();
      let refusal = "";
      const errors = new Writable({
        write(chunk: Buffer, _encoding, done) {
          refusal += chunk.toString();
          done();
        },
      });
      let ws: WebSocket | undefined;
      let late = false;
      const connection = new Duplex({
        // When the pod's side ends, so does this side: the channel protocol has no half-close.
        allowHalfOpen: false,
        read() {
          ws?.resume();
        },
        write(chunk: Buffer, _encoding, done) {
          toPod.write(chunk, done);
        },
        // The channel protocol cannot half-close one direction: ending the input closes the WebSocket and would
        // cut off the pod's answer. The connection ends when the pod's side closes or this side is destroyed.
        final(done) {
          done();
        },
        destroy(err, done) {
          ws?.terminate();
          done(err);
        },
      });
      const fromPod = new Writable({
        write(chunk: Buffer, _encoding, done) {
          // client-node hands on the port number each channel opens with as an empty chunk.
          // A reader slower than the pod (a user's download) pauses the WebSocket, so the pod's bytes wait in
          // TCP buffers, not in this process's memory.
          if (chunk.length && !connection.push(chunk)) ws?.pause();
          done();
        },
      });
      const timer = setTimeout(() => {
        late = true;
        reject(
          new Error(`the API server did not open port-forward to ${namespace}/${pod}:${port} within 10 s`),
        );
      }, UPGRADE_TIMEOUT_MS);
      forwarder.portForward(namespace, pod, [port], fromPod, errors, toPod).then(
        (opened) => {
          clearTimeout(timer);
          const socket = opened as WebSocket;
          if (late) {
            socket.terminate();
            return;
          }
          ws = socket;
          socket.on("error", (err) => connection.destroy(err));
          socket.on("close", () => {
            if (refusal) connection.destroy(new Error(refusal));
            else connection.push(null);
          });
          resolve(connection);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(new Error(`port-forward to ${namespace}/${pod}:${port}: ${describe(err)}`));
        },
      );
    });
}

/** client-node rejects with the WebSocket's error event, whose message says what the API server answered. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const event = err as { message?: string; error?: Error };
  return event.error?.message ?? event.message ?? String(err);
}
