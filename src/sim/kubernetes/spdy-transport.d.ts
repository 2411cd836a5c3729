// The part of spdy-transport (which ships no types) that the port-forward server uses.
declare module "spdy-transport" {
  import type { EventEmitter } from "node:events";
  import type { Duplex } from "node:stream";

  interface SendWindow {
    update(size: number, callback?: () => void): void;
  }

  interface SpdyStream extends Duplex {
    id: number;
    _spdyState: { window: { send: SendWindow } };
    headers: Record<string, string | string[]>;
    respond(status: number, headers: Record<string, string>, callback?: (err?: Error) => void): void;
    abort(code?: string, callback?: () => void): void;
  }

  interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
    on(event: "stream", listener: (stream: SpdyStream) => void): this;
    on(event: "error", listener: (err: Error) => void): this;
    on(event: "close", listener: () => void): this;
    _spdyState: {
      window: { send: SendWindow };
      parser: {
        parseKVs(
          body: unknown,
          callback: (err: Error | null, headers?: Record<string, string | string[]>) => void,
        ): void;
      };
    };
  }

  const transport: {
    connection: {
      create(socket: Duplex, options: { protocol: "spdy"; isServer: boolean }): SpdyConnection;
    };
  };

  export type { SendWindow, SpdyConnection, SpdyStream };
  export default transport;
}
