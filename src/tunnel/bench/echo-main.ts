// A TCP echo server in its own process (file descriptors per process are limited); prints PORT=<n>.
import net from "node:net";

const server = net.createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
});
server.maxConnections = 100_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT=${(server.address() as net.AddressInfo).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
