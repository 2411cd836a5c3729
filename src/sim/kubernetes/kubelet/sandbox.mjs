// The pod sandbox of the process kubelet (its "pause" container). It runs inside the pod's own network namespace,
// holds it open, and forwards connections from a Unix socket (reachable from the host) to the pod's localhost:
// a client writes "<port>\n" and gets "OK\n" and a byte stream, or "ERR <code>\n".
import { rmSync } from "node:fs";
import { connect, createServer } from "node:net";

const socketPath = process.argv[2];
rmSync(socketPath, { force: true });
const server = createServer((client) => {
  let header = "";
  const onData = (chunk) => {
    header += chunk.toString("latin1");
    const nl = header.indexOf("\n");
    if (nl < 0) {
      if (header.length > 16) client.destroy();
      return;
    }
    client.off("data", onData);
    client.pause();
    const port = Number(header.slice(0, nl));
    const rest = Buffer.from(header.slice(nl + 1), "latin1");
    const upstream = connect({ host: "127.0.0.1", port });
    upstream.once("connect", () => {
      client.write("OK\n");
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once("error", (err) => {
      if (upstream.connecting || !upstream.remoteAddress) client.end(`ERR ${err.code ?? "ECONNREFUSED"}\n`);
      else client.destroy();
    });
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  client.on("data", onData);
});
server.listen(socketPath, () => process.stdout.write("ready\n"));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
