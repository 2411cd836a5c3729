import { randomBytes } from "node:crypto";
import type { Gitlab } from "@gitbeaker/rest";
import type { LaunchedWorkspace, LaunchOptions, WorkspaceLauncher } from "../../ci/launcher.ts";
import { EDITOR_PORT, sanitizeName } from "../../kubernetes/settings.ts";
import type { Arch, Executor } from "../../report/model.ts";
import type { TunnelAdminClient } from "../../tunnel/admin-client.ts";
import { EnvironmentError } from "../environment-error.ts";
import type { CellContext, PathProvisioner, WorkspaceHandle } from "../workspace.ts";
import { imageFacts } from "./image-facts.ts";
import { editorAnswers, type TunnelUserSurface, userFacingHandle, waitUntil } from "./tunnel-handle.ts";

const FINISHED = ["success", "failed", "canceled", "skipped"];

/**
 * The CI path: the devfile becomes a pipeline, committed to a per-workspace branch and started through
 * GitLab's API; a runner runs the job, whose injected agent dials the tunnel; users reach the job's
 * ports at the same kind of URL as a Kubernetes workspace.
 */
export class CiPathProvisioner implements PathProvisioner {
  readonly path = "ci" as const;
  private serial = 0;

  constructor(
    private readonly api: InstanceType<typeof Gitlab>,
    private readonly projectId: number,
    private readonly launcher: WorkspaceLauncher,
    private readonly tunnel: TunnelUserSurface,
    private readonly admin: TunnelAdminClient,
    /** The image map of tiers that run images: devfile image → the local image that runs. */
    private readonly imageFor: ((reference: string, arch: Arch) => string) | undefined,
    private readonly log: (line: string) => void,
    /** Where a job of this executor and architecture dials the tunnel. */
    private readonly agentUrlFor: (executor: Executor, arch: Arch) => string,
  ) {}

  async start(cell: CellContext): Promise<WorkspaceHandle> {
    if (!cell.executor) throw new Error("a CI-path cell needs an executor");
    const name = `ws-${sanitizeName(cell.scenario.name).slice(0, 24)}-${cell.executor}-${++this.serial}-${randomBytes(2).toString("hex")}`;
    const agentToken = randomBytes(24).toString("base64url");
    const userToken = randomBytes(18).toString("base64url");
    await this.admin.add(name, agentToken, [userToken]);
    const options: LaunchOptions = {
      executor: cell.executor,
      arch: cell.arch,
      workspace: name,
      tunnelUrl: this.agentUrlFor(cell.executor, cell.arch),
      agentToken,
      variables: [
        ...Object.entries(cell.scenario.workspace.variables).map(([key, value]) => ({ key, value })),
        ...Object.entries(cell.scenario.workspace.files).map(([key, value]) => ({
          key,
          value,
          variable_type: "file" as const,
        })),
      ],
    };
    let launched: LaunchedWorkspace | undefined;
    // Set once the harness itself ends the job (stop, restart, dispose): an end it did not ask for is a fault.
    let ending = false;
    const timeout = cell.scenario.timeouts.startMs;
    const running = async (next: LaunchedWorkspace) => {
      launched = next;
      this.log(`${name}: pipeline ${next.pipelineId}, job ${next.jobId}`);
      await this.launcher.waitFor(next, ["running"], timeout);
      await waitUntil(
        "the editor to answer through the tunnel",
        () => editorAnswers(handle, EDITOR_PORT),
        timeout,
      );
    };
    const jobState = async () => (launched ? this.launcher.jobState(launched) : "none");
    // Stop asks the agent first, so the job ends by itself and the runner saves the volumes' cache.
    const askAgent = () => this.admin.requestStop(name);
    const handle = userFacingHandle(
      this.tunnel,
      name,
      userToken,
      {
        restart: async () => {
          ending = true;
          const next = await this.launcher.restart(launched!, cell.spec, options, askAgent);
          ending = false;
          await running(next);
        },
        stop: async () => {
          ending = true;
          if (launched && !FINISHED.includes(await jobState()))
            await this.launcher.stop(launched, timeout, askAgent);
        },
        leftovers: async () => {
          const left: string[] = [];
          const state = await jobState();
          if (launched && !FINISHED.includes(state)) left.push(`job ${launched.jobId} is ${state}`);
          if (await this.admin.online(name)) left.push("the agent is still connected");
          return left;
        },
        ended: async () => {
          if (!launched || ending) return undefined;
          // A job that was killed takes its agent with it at once, while the runner reports the end a moment
          // later: with the agent gone, give GitLab a few seconds to record it.
          const deadline = Date.now() + ((await this.admin.online(name)) ? 0 : 15_000);
          for (;;) {
            const job = await this.api.Jobs.show(this.projectId, launched.jobId);
            if (FINISHED.includes(job.status as string)) {
              const reason = job.failure_reason ? ` (${job.failure_reason})` : "";
              return `job ${launched.jobId} ended ${job.status}${reason} while the cell ran; nobody stopped it`;
            }
            if (Date.now() >= deadline) return undefined;
            await new Promise((r) => setTimeout(r, 250));
          }
        },
        dispose: async () => {
          ending = true;
          try {
            if (launched && !FINISHED.includes(await jobState()))
              await this.launcher.stop(launched, 60_000, askAgent);
          } finally {
            await this.admin.remove(name);
          }
        },
      },
      { ...imageFacts(cell, this.imageFor), executor: cell.executor, projectId: this.projectId },
    );
    try {
      await running(await this.launcher.start(cell.spec, options));
    } catch (err) {
      const pending = launched && (await jobState().catch(() => "unknown")) === "pending";
      if (pending) {
        const job = await this.api.Jobs.show(this.projectId, launched!.jobId).catch(() => undefined);
        await handle.dispose().catch(() => undefined);
        throw new EnvironmentError(
          `job ${launched!.jobId} was still pending after ${timeout} ms: no online runner with the tags ${JSON.stringify(job?.tag_list ?? [])} took it`,
        );
      }
      const trace = launched
        ? await this.api.Jobs.showLog(this.projectId, launched.jobId).catch(() => "")
        : "";
      await handle.dispose().catch(() => undefined);
      const tail = String(trace).trim().split("\n").slice(-5).join(" | ");
      throw new Error(`${(err as Error).message.split("\n")[0]}${tail ? ` — job log: ${tail}` : ""}`);
    }
    return handle;
  }
}
