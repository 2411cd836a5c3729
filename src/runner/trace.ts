// The job log as gitlab-runner streams it: output is masked, buffered, and sent with PATCH .../trace in
// order (Content-Range); a 416 moves the offset to what GitLab holds; quiet periods send a keep-alive
// PUT. Every answer's Job-Status is watched: canceling asks the job to stop, canceled aborts it.

import type { JobApiClient, JobPayload, RemoteJobState } from "./api-client.ts";

export interface TraceEvents {
  onCancelRequested(): void;
  onAborted(): void;
}

const MASK = "[MASKED]";

export class JobTrace {
  private buffer = Buffer.alloc(0);
  private sent = 0;
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastContact = Date.now();
  private readonly secrets: string[];
  private stopped = false;

  constructor(
    private readonly client: JobApiClient,
    private readonly job: JobPayload,
    private readonly events: TraceEvents,
    intervalMs = 3000,
  ) {
    this.intervalMs = intervalMs;
    this.secrets = job.variables
      .filter((v) => v.masked && v.value.length >= 8)
      .map((v) => v.value)
      .sort((a, b) => b.length - a.length);
  }

  start(): void {
    if (this.stopped) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  write(text: string | Buffer): void {
    let chunk = typeof text === "string" ? text : text.toString("utf8");
    for (const secret of this.secrets) chunk = chunk.split(secret).join(MASK);
    this.buffer = Buffer.concat([this.buffer, Buffer.from(chunk)]);
  }

  /** Bytes written so far (what the final update reports as output.bytesize). */
  get size(): number {
    return this.buffer.length;
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.sendPending()).catch(() => undefined);
    return this.flushing;
  }

  private async sendPending(): Promise<void> {
    if (this.stopped) return;
    if (this.sent >= this.buffer.length) {
      if (Date.now() - this.lastContact >= this.intervalMs)
        this.observe(await this.client.updateJob(this.job, { state: "running" }));
      return;
    }
    const result = await this.client.patchTrace(this.job, this.buffer.subarray(this.sent), this.sent);
    if (result.status === 202 && result.remoteEnd !== null) this.sent = result.remoteEnd;
    else if (result.status === 416 && result.remoteEnd !== null)
      this.sent = Math.min(result.remoteEnd, this.buffer.length);
    if (result.updateIntervalSeconds && result.updateIntervalSeconds * 1000 !== this.intervalMs) {
      this.intervalMs = result.updateIntervalSeconds * 1000;
      // Not once finish() or stop() ended the timer: a new one would keep the runner process alive.
      if (this.timer) {
        this.stopTimer();
        this.start();
      }
    }
    this.observe(result);
  }

  private observe(state: RemoteJobState): void {
    this.lastContact = Date.now();
    if (state.aborted) this.events.onAborted();
    else if (state.cancelRequested) this.events.onCancelRequested();
  }

  /** Sends everything still buffered (a few tries), then stops the timer. */
  async finish(): Promise<void> {
    this.stopTimer();
    for (let attempt = 0; attempt < 5 && this.sent < this.buffer.length && !this.stopped; attempt++) {
      await this.flush();
      if (this.sent < this.buffer.length) await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
    this.stopped = true;
  }

  stop(): void {
    this.stopTimer();
    this.stopped = true;
  }
}
