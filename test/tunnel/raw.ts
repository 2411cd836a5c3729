import net from "node:net";

export interface RawAnswer {
  /** Everything the server sent before it closed the connection or `waitMs` passed. */
  text: string;
  /** The status code of the first response, or null when none came. */
  status: number | null;
  closed: boolean;
}

/** A whole response: its head, and a body of its Content-Length (none for 1xx, 204, 304). */
function responseComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const head = text.slice(0, end);
  if (/^HTTP\/1\.[01] (1\d\d|204|304)/.test(head)) return true;
  const length = head.match(/\r\ncontent-length:\s*(\d+)/i);
  return length !== null && Buffer.byteLength(text.slice(end + 4), "latin1") >= Number(length[1]);
}

/** Writes `request` to a fresh TCP connection as is, and collects the answer. */
export function rawExchange(port: number, request: string | Buffer, waitMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let text = "";
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = text.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve({ text, status: match ? Number(match[1]) : null, closed });
    };
    const timer = setTimeout(finish, waitMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (responseComplete(text)) finish();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.write(request);
  });
}
