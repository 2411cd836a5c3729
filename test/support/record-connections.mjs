// Loaded with `node --import` into a process under test: appends every TCP connection the process opens (its
// peer as host:port, or "unix:<path>") to the file named by WSPARITY_RECORD_CONNECTIONS, one JSON line each.

import { subscribe } from "node:diagnostics_channel";
import { appendFileSync } from "node:fs";

const file = process.env.WSPARITY_RECORD_CONNECTIONS;
if (file) {
  const record = (peer, how) => appendFileSync(file, `${JSON.stringify({ peer, how, pid: process.pid })}\n`);
  subscribe("net.client.socket", ({ socket }) => {
    socket.once("connect", () =>
      record(
        socket.remoteAddress
          ? `${socket.remoteAddress}:${socket.remotePort}`
          : `unix:${socket._pendingData ?? "?"}`,
        "connected",
      ),
    );
    socket.once("error", (err) => {
      if (err.address) record(err.port ? `${err.address}:${err.port}` : `unix:${err.address}`, err.code);
    });
  });
}
