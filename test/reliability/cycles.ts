import http from "node:http";
import net from "node:net";
import { WebSocket } from "ws";
import type { Workspace } from "../tunnel/helpers.ts";

/** One user connection through the tunnel, opened, used once and closed, of each kind a user has. */
export const userCycles = {
  http: (userPort: number, ws: Workspace, appPort: number) =>
    new Promise<void>((resolve, reject) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port: userPort,
            path: "/whoami",
            agent: false,
            headers: { host: `${appPort}-${ws.name}.localtest`, authorization: `Bearer ${ws.userToken}` },
          },
          (res) => {
            res.resume();
            res.on("end", () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
            );
          },
        )
        .on("error", reject);
    }),
  websocket: (userPort: number, ws: Workspace, appPort: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${userPort}/ws`, {
        headers: { host: `${appPort}-${ws.name}.localtest`, authorization: `Bearer ${ws.userToken}` },
      });
      socket.on("open", () => socket.send("x"));
      socket.on("message", () => socket.close());
      socket.on("close", () => resolve());
      socket.on("error", reject);
    }),
  connect: (userPort: number, ws: Workspace, appPort: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(userPort, "127.0.0.1");
      socket.write(
        `CONNECT ${ws.name}:${appPort} HTTP/1.1\r\nHost: ${ws.name}:${appPort}\r\nProxy-Authorization: Bearer ${ws.userToken}\r\n\r\nGET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      let text = "";
      socket.setEncoding("latin1").on("data", (c: string) => {
        text += c;
      });
      socket.on("end", () => socket.end());
      socket.on("close", () =>
        text.includes("200 Connection Established") && text.includes("\r\n\r\n")
          ? resolve()
          : reject(new Error(text)),
      );
      socket.on("error", reject);
    }),
};

/** Runs `count` calls of `cycle`, `parallel` at a time (each call gets its lane's index); returns the failures. */
export async function runCycles(
  count: number,
  parallel: number,
  cycle: (lane: number) => Promise<void>,
): Promise<number> {
  let started = 0;
  let failed = 0;
  const lane = async (index: number) => {
    while (started < count) {
      started++;
      await cycle(index).catch(() => {
        failed++;
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, index) => lane(index)));
  return failed;
}
