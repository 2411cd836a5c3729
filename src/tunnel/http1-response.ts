/**
 * The part of HTTP/1.1 (RFC 9112) the tunnel server needs to relay a workspace's responses as raw bytes: the
 * response head, and where the body ends (section 6.3). Body bytes are never copied or converted; a chunked body
 * is only scanned for its chunk-size lines, so its bytes can leave exactly as they came.
 */

export class ResponseProtocolError extends Error {
  override name = "ResponseProtocolError";
}

export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  /** HTTP/1.1, or 1.0 */
  minorVersion: number;
  /** Name, value, name, value… as sent. */
  rawHeaders: string[];
  /** Bytes of the head, the empty line included. */
  length: number;
}

export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  /** Delimited by the workspace closing the connection. */
  | { kind: "close" };

const HEAD_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE_FORBIDDEN = /[\r\n\0]/;
const DIGITS = /^\d+$/;

/** The head at the start of `bytes`; undefined while it is incomplete. Throws when it is malformed or larger than `maxBytes`. */
export function parseResponseHead(bytes: Buffer, maxBytes: number): ResponseHead | undefined {
  const end = bytes.indexOf(HEAD_END);
  if (end === -1) {
    if (bytes.length > maxBytes)
      throw new ResponseProtocolError(`response head larger than ${maxBytes} bytes`);
    return undefined;
  }
  if (end + 4 > maxBytes) throw new ResponseProtocolError(`response head larger than ${maxBytes} bytes`);
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const status = STATUS_LINE.exec(lines[0]!);
  if (!status)
    throw new ResponseProtocolError(`malformed status line ${JSON.stringify(lines[0]!.slice(0, 100))}`);
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon === -1 || !FIELD_NAME.test(name) || FIELD_VALUE_FORBIDDEN.test(line))
      throw new ResponseProtocolError(`malformed header line ${JSON.stringify(line.slice(0, 100))}`);
    rawHeaders.push(name, withoutOws(line, colon + 1));
  }
  return {
    minorVersion: Number(status[1]),
    statusCode: Number(status[2]),
    statusMessage: status[3] ?? "",
    rawHeaders,
    length: end + 4,
  };
}

export interface ResponseBody {
  framing: BodyFraming;
  /** Whether the connection may carry another request once this body has ended. */
  reusable: boolean;
}

/**
 * How the body of a response to `method` ends (RFC 9112 section 6.3), and whether the connection can be used again
 * after it. Throws on a Content-Length that is not one number. One pass over the headers: this runs per request.
 */
export function responseBody(method: string, head: ResponseHead): ResponseBody {
  let codings = "";
  let lengths: string[] | undefined;
  let connection = "";
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Only these three names matter here; their lengths tell most other headers apart without lower-casing them.
    if (name.length !== 17 && name.length !== 14 && name.length !== 10) continue;
    const lower = name.toLowerCase();
    if (lower === "transfer-encoding") codings += `${raw[i + 1]},`;
    else if (lower === "content-length") lengths = [...(lengths ?? []), ...raw[i + 1]!.split(",")];
    else if (lower === "connection") connection += `${raw[i + 1]!.toLowerCase()},`;
  }
  const framing = bodyFraming(method, head.statusCode, codings, lengths);
  const tokens = connection.split(",").map((token) => token.trim());
  const reusable =
    framing.kind !== "close" &&
    !tokens.includes("close") &&
    // A body framed by both Transfer-Encoding and Content-Length may have been read differently by a party in between.
    !(framing.kind === "chunked" && lengths !== undefined) &&
    (head.minorVersion === 1 || tokens.includes("keep-alive"));
  return { framing, reusable };
}

function bodyFraming(
  method: string,
  status: number,
  codings: string,
  lengths: string[] | undefined,
): BodyFraming {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return { kind: "none" };
  if (codings !== "") {
    const last = codings
      .split(",")
      .map((coding) => coding.trim())
      .filter((coding) => coding !== "")
      .at(-1);
    if (last !== undefined) return last.toLowerCase() === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  if (lengths === undefined) return { kind: "close" };
  const length = lengths[0]!.trim();
  if (
    !DIGITS.test(length) ||
    !Number.isSafeInteger(Number(length)) ||
    lengths.some((l) => l.trim() !== length)
  )
    throw new ResponseProtocolError(
      `invalid Content-Length ${JSON.stringify(lengths.join(",").slice(0, 100))}`,
    );
  return { kind: "length", bytes: Number(length) };
}

/** Where a chunked-body scanner is: the states of RFC 9112's chunked-body grammar. */
const Chunk = {
  Size: 0,
  Extension: 1,
  SizeLf: 2,
  Data: 3,
  DataCr: 4,
  DataLf: 5,
  TrailerStart: 6,
  Trailer: 7,
  TrailerLf: 8,
  FinalLf: 9,
  Done: 10,
} as const;
type ChunkState = (typeof Chunk)[keyof typeof Chunk];

const CR = 0x0d;
const LF = 0x0a;
/** 2^48: more than any body, and safe to multiply by 16 as a float. */
const MAX_CHUNK = 2 ** 48;

/**
 * Finds the end of a chunked body (RFC 9112 section 7.1) in the pieces it arrives in, without copying them: only
 * chunk-size and trailer lines are looked at byte by byte; chunk data is skipped over.
 */
export class ChunkedBodyScanner {
  #state: ChunkState = Chunk.Size;
  #size = 0;
  #digits = 0;
  #remaining = 0;

  get done(): boolean {
    return this.#state === Chunk.Done;
  }

  /**
   * Consumes `bytes` and returns how many of them belong to the body: all of them until its last piece. `data`, if
   * given, receives the chunk data (subarrays of `bytes`), for a reader that needs the body without its framing.
   */
  scan(bytes: Buffer, data?: (piece: Buffer) => void): number {
    let i = 0;
    const n = bytes.length;
    while (i < n && this.#state !== Chunk.Done) {
      switch (this.#state) {
        case Chunk.Data: {
          const take = Math.min(this.#remaining, n - i);
          data?.(bytes.subarray(i, i + take));
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = Chunk.DataCr;
          continue;
        }
        case Chunk.Size: {
          const byte = bytes[i]!;
          const digit = hexValue(byte);
          if (digit >= 0) {
            this.#size = this.#size * 16 + digit;
            this.#digits++;
            if (this.#size >= MAX_CHUNK) throw new ResponseProtocolError("chunk size too large");
          } else if (this.#digits === 0) {
            throw new ResponseProtocolError("chunk size missing");
          } else if (byte === CR) {
            this.#state = Chunk.SizeLf;
          } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
            this.#state = Chunk.Extension;
          } else {
            throw new ResponseProtocolError(`unexpected byte ${byte} in a chunk size`);
          }
          break;
        }
        case Chunk.Extension:
        case Chunk.Trailer: {
          // The rest of a chunk-size line's extension, or a trailer line: checked up to its CR, never copied.
          const cr = bytes.indexOf(CR, i);
          this.#checkLine(bytes, i, cr === -1 ? n : cr);
          if (cr === -1) {
            i = n;
            continue;
          }
          i = cr;
          this.#state = this.#state === Chunk.Extension ? Chunk.SizeLf : Chunk.TrailerLf;
          break;
        }
        case Chunk.SizeLf:
          this.#expect(bytes[i]!, LF);
          if (this.#size === 0) this.#state = Chunk.TrailerStart;
          else {
            this.#remaining = this.#size;
            this.#state = Chunk.Data;
          }
          this.#size = 0;
          this.#digits = 0;
          break;
        case Chunk.DataCr:
          this.#expect(bytes[i]!, CR);
          this.#state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          this.#expect(bytes[i]!, LF);
          this.#state = Chunk.Size;
          break;
        case Chunk.TrailerStart:
          this.#state = bytes[i] === CR ? Chunk.FinalLf : Chunk.Trailer;
          if (this.#state === Chunk.Trailer) continue;
          break;
        case Chunk.TrailerLf:
        case Chunk.FinalLf:
          this.#expect(bytes[i]!, LF);
          this.#state = this.#state === Chunk.FinalLf ? Chunk.Done : Chunk.TrailerStart;
          break;
      }
      i++;
    }
    return i;
  }

  #expect(byte: number, wanted: number): void {
    if (byte !== wanted)
      throw new ResponseProtocolError(`expected byte ${wanted} in chunked framing, got ${byte}`);
  }

  /** A bare LF inside a size or trailer line would let two readers disagree on where the line ends. */
  #checkLine(bytes: Buffer, from: number, to: number): void {
    const lf = bytes.indexOf(LF, from);
    if (lf !== -1 && lf < to) throw new ResponseProtocolError("bare LF in a chunk-size or trailer line");
  }
}

/** `line` from `from` on, without the optional whitespace (SP, HTAB) around a field value. */
function withoutOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return line.slice(start, end);
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}
