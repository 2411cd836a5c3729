import { SSH_PORT } from "../../kubernetes/settings.ts";
import type { WorkspaceHandle } from "../workspace.ts";
import { execInWorkspace } from "./editor-client.ts";
import { inconclusive, type Probe, type ProbeOutcome, supported, unsupported } from "./probe.ts";

/**
 * GitLab starts sshd on 60022 only when the image has one: without it, no SSH endpoint is what
 * GitLab does too, and the feature cannot be shown with this devfile's image.
 */
async function explained(ws: WorkspaceHandle, failure: string): Promise<ProbeOutcome> {
  const look = await execInWorkspace(
    ws,
    // sshd -t with a throwaway host key says whether sshd can run in this container at all.
    `p=$(command -v sshd); echo "sshd=$p"; if [ -n "$p" ]; then k=$(mktemp -u); ssh-keygen -q -t ed25519 -N "" -f "$k" >/dev/null 2>&1 && { o=$("$p" -t -h "$k" 2>&1 | head -n 2); echo "sshd -t: \${o:-passes}"; }; rm -f "$k" "$k.pub"; fi; grep -h sshd "\${GL_WORKSPACE_LOGS_DIR:-/nonexistent}"/*.log 2>/dev/null | tail -n 2`,
    { timeoutMs: 10_000 },
  ).catch(() => undefined);
  if (!look) return unsupported(failure);
  const [first = "", ...log] = look.stdout.trim().split("\n");
  const sshd = first.replace(/^sshd=/, "");
  if (first.startsWith("sshd=") && sshd === "")
    return inconclusive(
      failure,
      "the main container's image has no sshd (GitLab starts sshd on 60022 only when the image has one)",
    );
  const said = log.filter(Boolean).join(" / ");
  return unsupported(`${failure}; sshd is at ${sshd || "?"}${said ? `; ${said}` : ""}`);
}

/** SSH through the workspace URL: a raw TCP stream to 60022 must greet with an SSH banner. */
export const endpointTcp: Probe = {
  id: "endpoint.tcp",
  async run({ ws }) {
    let stream: Awaited<ReturnType<typeof ws.connect>>;
    try {
      stream = await ws.connect(SSH_PORT);
    } catch (err) {
      return explained(ws, `CONNECT to port ${SSH_PORT} failed: ${(err as Error).message}`);
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
      return explained(ws, `TCP to ${SSH_PORT}: ${(err as Error).message}`);
    } finally {
      stream.destroy();
    }
  },
};
