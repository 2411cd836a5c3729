import { SSH_PORT } from "../../kubernetes/settings.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

/** SSH through the workspace URL: a raw TCP stream to 60022 must greet with an SSH banner. */
export const endpointTcp: Probe = {
  id: "endpoint.tcp",
  async run({ ws }) {
    let stream: Awaited<ReturnType<typeof ws.connect>>;
    try {
      stream = await ws.connect(SSH_PORT);
    } catch (err) {
      return unsupported(`CONNECT to port ${SSH_PORT} failed: ${(err as Error).message}`);
    }
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let text = "";
        const timer = setTimeout(
          () => reject(new Error(`no banner within 10 s (got ${JSON.stringify(text)})`)),
          10_000,
        );
        stream.on("data", (chunk: Buffer) => {
          text += chunk.toString("latin1");
          if (text.includes("\n")) {
            clearTimeout(timer);
            resolve(text.split("\n")[0]!.trim());
          }
        });
        stream.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        stream.on("end", () => {
          clearTimeout(timer);
          reject(new Error(`closed before a banner (got ${JSON.stringify(text)})`));
        });
      });
      return banner.startsWith("SSH-2.0-")
        ? supported(`TCP to ${SSH_PORT} through the workspace URL greeted "${banner}"`)
        : unsupported(`TCP to ${SSH_PORT} answered "${banner.slice(0, 80)}", not an SSH banner`);
    } catch (err) {
      return unsupported(`TCP to ${SSH_PORT}: ${(err as Error).message}`);
    } finally {
      stream.destroy();
    }
  },
};
