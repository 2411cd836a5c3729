import type { IncomingHttpHeaders } from "node:http";
import type { Duplex, Readable } from "node:stream";
import {
  type BodyFraming,
  ChunkedBodyScanner,
  parseResponseHead,
  type ResponseHead,
  ResponseProtocolError,
  responseBody,
} from "./http1-response.ts";

/** A workspace response head larger than this is a 502, as it was when node's http client read it (its default). */
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
// Buffers, never strings: an HTTP/2 stream's writev garbles a latin1 string written beside a Buffer.
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The user's request body, already decoded, when it has one. */
  body?: Readable;
}

export interface ExchangeHandlers {
  /** The final response head. Returns whether a chunked body is wanted as sent ("raw") or as its data only. */
  head(head: ResponseHead, framing: BodyFraming): "raw" | "data";
  /** A piece of the body (a subarray of what the stream read: never copied). */
  body(piece: Buffer): void;
  /** The body has ended. */
  end(): void;
  /** The exchange failed; `answered` says whether the head had already been handed over. */
  error(err: Error, answered: boolean): void;
  /** Called once the stream is no longer used by this exchange: reusable when it may carry another request. */
  release(reusable: boolean): void;
}

export interface Exchange {
  pause(): void;
  resume(): void;
  /** The user went away: the stream is cut. */
  abort(): void;
}

/**
 * One HTTP/1.1 request and its response over a byte stream to the workspace. The response head is parsed; its
 * body is handed over as the pieces the stream delivers, cut only where the body ends, so the user's side can write
 * them out as they are instead of having node's `http` parse and frame them again.
 */
export function exchange(stream: Duplex, request: UpstreamRequest, handlers: ExchangeHandlers): Exchange {
  let pending: Buffer | undefined;
  let framing: BodyFraming | undefined;
  let reusable = false;
  let remaining = 0;
  let scanner: ChunkedBodyScanner | undefined;
  let data: ((piece: Buffer) => void) | undefined;
  let requestSent = request.body === undefined;
  let settled = false;

  const detach = () => {
    stream.off("data", onData);
    stream.off("end", onEnd);
    stream.off("error", onError);
    stream.off("close", onClose);
    if (request.body) {
      request.body.off("data", onRequestData);
      request.body.off("end", onRequestEnd);
      // What the user still sends of a body the workspace did not wait for is read and dropped, so the user's
      // connection can carry its next request.
      if (!requestSent) request.body.resume();
    }
  };
  const fail = (err: Error) => {
    if (settled) return;
    settled = true;
    detach();
    stream.destroy();
    handlers.release(false);
    handlers.error(err, framing !== undefined);
  };
  const finish = (extra: boolean) => {
    if (settled) return;
    settled = true;
    detach();
    stream.pause();
    handlers.end();
    handlers.release(!extra && requestSent && reusable);
  };
  let head: ResponseHead | undefined;

  const onBody = (bytes: Buffer) => {
    const kind = framing!.kind;
    if (kind === "close") {
      handlers.body(bytes);
      return;
    }
    if (kind === "length") {
      const take = Math.min(remaining, bytes.length);
      if (take > 0) handlers.body(take === bytes.length ? bytes : bytes.subarray(0, take));
      remaining -= take;
      if (remaining === 0) finish(take < bytes.length);
      return;
    }
    if (kind === "chunked") {
      const used = scanner!.scan(bytes, data);
      if (!data && used > 0) handlers.body(used === bytes.length ? bytes : bytes.subarray(0, used));
      if (scanner!.done) finish(used < bytes.length);
      return;
    }
    finish(bytes.length > 0);
  };

  const onHead = (bytes: Buffer) => {
    let rest = bytes;
    for (;;) {
      const parsed = parseResponseHead(rest, MAX_RESPONSE_HEAD_BYTES);
      if (!parsed) {
        pending = rest;
        return;
      }
      rest = rest.subarray(parsed.length);
      if (parsed.statusCode === 101)
        throw new ResponseProtocolError("the workspace switched protocols on a request that did not ask to");
      // 100 Continue and other interim responses are not passed on: node's http server answers Expect itself.
      if (parsed.statusCode >= 200) {
        head = parsed;
        break;
      }
    }
    pending = undefined;
    ({ framing, reusable } = responseBody(request.method, head));
    if (framing.kind === "length") remaining = framing.bytes;
    const wanted = handlers.head(head, framing);
    if (framing.kind === "chunked") {
      scanner = new ChunkedBodyScanner();
      if (wanted === "data") data = (piece) => handlers.body(piece);
    }
    if (framing.kind === "none" || (framing.kind === "length" && remaining === 0)) finish(rest.length > 0);
    else if (rest.length > 0) onBody(rest);
  };

  const onData = (chunk: Buffer) => {
    try {
      if (framing) onBody(chunk);
      else onHead(pending ? Buffer.concat([pending, chunk]) : chunk);
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const onEnd = () => {
    if (framing?.kind === "close") finish(false);
    else
      fail(
        new ResponseProtocolError(
          framing
            ? "the workspace closed the connection before the body ended"
            : "the workspace closed the connection without answering",
        ),
      );
  };
  const onError = (err: Error) => fail(err);
  const onClose = () => fail(new ResponseProtocolError("the stream to the workspace closed"));

  const onRequestData = (chunk: Buffer) => {
    if (request.headers["content-length"] === undefined) {
      stream.cork();
      stream.write(Buffer.from(`${chunk.length.toString(16)}\r\n`, "latin1"));
      stream.write(chunk);
      stream.write(CRLF);
      stream.uncork();
    } else {
      stream.write(chunk);
    }
    if (stream.writableNeedDrain) {
      request.body!.pause();
      stream.once("drain", () => request.body!.resume());
    }
  };
  const onRequestEnd = () => {
    if (request.headers["content-length"] === undefined) stream.write(LAST_CHUNK);
    requestSent = true;
  };

  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
  stream.write(requestHead(request));
  if (request.body) {
    request.body.on("data", onRequestData);
    request.body.on("end", onRequestEnd);
  }
  stream.resume();

  return {
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    abort: () => {
      if (settled) return;
      settled = true;
      detach();
      stream.destroy();
      handlers.release(false);
    },
  };
}

/** The request head as one Buffer. */
function requestHead(request: UpstreamRequest): Buffer {
  let text = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) text += `${name}: ${one}\r\n`;
  }
  text += "connection: keep-alive\r\n";
  if (request.body && request.headers["content-length"] === undefined)
    text += "transfer-encoding: chunked\r\n";
  return Buffer.from(`${text}\r\n`, "latin1");
}
