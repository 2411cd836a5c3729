import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BodyFraming,
  ChunkedBodyScanner,
  parseResponseHead,
  ResponseProtocolError,
  responseBody,
} from "../../src/tunnel/http1-response.ts";

const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/);
const fieldValue = fc.stringMatching(/^([!-~]([ !-~]{0,30}[!-~])?)?$/);
const head = fc.record({
  minorVersion: fc.constantFrom(0, 1),
  statusCode: fc.integer({ min: 100, max: 599 }),
  statusMessage: fc.stringMatching(/^[ -~]{0,20}$/),
  headers: fc.array(fc.tuple(token, fieldValue), { maxLength: 8 }),
});

/** Splits `bytes` at the given cut points into pieces, as a socket might deliver them. */
function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  return out;
}

describe("parseResponseHead", () => {
  it("reads back any head it is given, waits while it is incomplete, and leaves what follows alone", () => {
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 40 }), (h, after) => {
        const text = `HTTP/1.${h.minorVersion} ${h.statusCode}${h.statusMessage ? ` ${h.statusMessage}` : ""}\r\n${h.headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
        const bytes = Buffer.concat([Buffer.from(text, "latin1"), after]);
        const parsed = parseResponseHead(bytes, 64 * 1024);
        expect(parsed).toEqual({
          minorVersion: h.minorVersion,
          statusCode: h.statusCode,
          statusMessage: h.statusMessage,
          rawHeaders: h.headers.flat(),
          length: Buffer.byteLength(text, "latin1"),
        });
        expect(parseResponseHead(bytes.subarray(0, text.length - 1), 64 * 1024)).toBeUndefined();
      }),
    );
  });

  it("throws only ResponseProtocolError on any bytes, and refuses a head larger than the limit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseResponseHead(Buffer.from(bytes), 64);
        } catch (err) {
          expect(err).toBeInstanceOf(ResponseProtocolError);
        }
      }),
    );
    expect(() => parseResponseHead(Buffer.alloc(100, 0x61), 64)).toThrow(/larger than 64 bytes/);
    expect(() => parseResponseHead(Buffer.from("HTTP/1.1 200 OK\r\n folded: no\r\n\r\n"), 64)).toThrow(
      /malformed header line/,
    );
    expect(() => parseResponseHead(Buffer.from("HTTP/2 200\r\n\r\n"), 64)).toThrow(/malformed status line/);
  });
});

describe("responseBody", () => {
  const body = (method: string, status: number, headers: string[], minorVersion = 1) =>
    responseBody(method, {
      minorVersion,
      statusCode: status,
      statusMessage: "",
      rawHeaders: headers,
      length: 0,
    });
  const framing = (method: string, status: number, headers: string[]): BodyFraming =>
    body(method, status, headers).framing;

  it("frames as RFC 9112 section 6.3 says", () => {
    expect(framing("HEAD", 200, ["Content-Length", "11"])).toEqual({ kind: "none" });
    expect(framing("GET", 204, [])).toEqual({ kind: "none" });
    expect(framing("GET", 304, ["content-length", "5"])).toEqual({ kind: "none" });
    expect(framing("GET", 200, ["Transfer-Encoding", "gzip, Chunked", "content-length", "3"])).toEqual({
      kind: "chunked",
    });
    expect(framing("GET", 200, ["transfer-encoding", "chunked, gzip"])).toEqual({ kind: "close" });
    expect(framing("GET", 200, ["transfer-encoding", " , "])).toEqual({ kind: "close" });
    expect(framing("GET", 200, ["content-length", "7", "Content-Length", "7, 7"])).toEqual({
      kind: "length",
      bytes: 7,
    });
    expect(framing("POST", 200, [])).toEqual({ kind: "close" });
    expect(() => framing("GET", 200, ["content-length", "7", "content-length", "8"])).toThrow(
      /Content-Length/,
    );
    expect(() => framing("GET", 200, ["content-length", "-1"])).toThrow(/Content-Length/);
    expect(() => framing("GET", 200, ["content-length", ""])).toThrow(/Content-Length/);
    expect(() => framing("GET", 200, ["content-length", "99999999999999999999"])).toThrow(/Content-Length/);
  });

  it("keeps a connection only when its next response can be found", () => {
    const reusable = (headers: string[], minorVersion = 1, status = 200) =>
      body("GET", status, headers, minorVersion).reusable;
    expect(reusable(["content-length", "1"])).toBe(true);
    expect(reusable(["content-length", "1", "Connection", "Close"])).toBe(false);
    expect(reusable(["Connection", "keep-alive, close"], 1, 204)).toBe(false);
    expect(reusable([])).toBe(false);
    expect(reusable(["content-length", "1"], 0)).toBe(false);
    expect(reusable(["Connection", "Keep-Alive"], 0, 204)).toBe(true);
    expect(reusable(["content-length", "3", "transfer-encoding", "chunked"])).toBe(false);
    expect(reusable(["transfer-encoding", "chunked"])).toBe(true);
  });
});

const chunkedBody = fc.record({
  chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }),
  extensions: fc.array(fc.constantFrom("", ";a=b", ' ;name="q r"', ";x"), { minLength: 7, maxLength: 7 }),
  upper: fc.boolean(),
  trailers: fc.array(fc.tuple(token, fieldValue), { maxLength: 3 }),
});

function encode(body: {
  chunks: Uint8Array[];
  extensions: string[];
  upper: boolean;
  trailers: [string, string][];
}): Buffer {
  const parts: Buffer[] = [];
  body.chunks.forEach((chunk, i) => {
    const size = chunk.length.toString(16);
    parts.push(
      Buffer.from(`${body.upper ? size.toUpperCase() : size}${body.extensions[i]}\r\n`),
      Buffer.from(chunk),
    );
    parts.push(Buffer.from("\r\n"));
  });
  parts.push(
    Buffer.from(`0${body.extensions[6]}\r\n${body.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`),
  );
  return Buffer.concat(parts);
}

describe("ChunkedBodyScanner", () => {
  it("finds exactly where a chunked body ends, however it is cut, and yields its data unchanged", () => {
    fc.assert(
      fc.property(
        chunkedBody,
        fc.uint8Array({ maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (body, after, cuts) => {
          const encoded = encode(body);
          const stream = Buffer.concat([encoded, after]);
          const scanner = new ChunkedBodyScanner();
          const data: Buffer[] = [];
          let consumed = 0;
          for (const piece of pieces(stream, cuts)) {
            if (scanner.done) break;
            consumed += scanner.scan(piece, (d) => data.push(Buffer.from(d)));
          }
          expect(scanner.done).toBe(true);
          expect(consumed).toBe(encoded.length);
          expect(Buffer.concat(data).equals(Buffer.concat(body.chunks.map((c) => Buffer.from(c))))).toBe(
            true,
          );
        },
      ),
    );
  });

  it("is not done before the last byte, and throws only ResponseProtocolError on any bytes", () => {
    fc.assert(
      fc.property(chunkedBody, (body) => {
        const encoded = encode(body);
        const scanner = new ChunkedBodyScanner();
        expect(scanner.scan(encoded.subarray(0, encoded.length - 1))).toBe(encoded.length - 1);
        expect(scanner.done).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 5 }), (chunks) => {
        const scanner = new ChunkedBodyScanner();
        try {
          for (const chunk of chunks) scanner.scan(Buffer.from(chunk));
        } catch (err) {
          expect(err).toBeInstanceOf(ResponseProtocolError);
        }
      }),
    );
    expect(() => new ChunkedBodyScanner().scan(Buffer.from("5\nhello"))).toThrow(ResponseProtocolError);
    expect(() => new ChunkedBodyScanner().scan(Buffer.from("2\r\nabX"))).toThrow(ResponseProtocolError);
    expect(() => new ChunkedBodyScanner().scan(Buffer.from("fffffffffffff\r\n"))).toThrow(/too large/);
  });
});
