// The runner side of GitLab's job API: what gitlab-runner sends and how it reads the answers
// (201 job / 204 none, Job-Status, Range, X-GitLab-Trace-Update-Interval, 403/404 as "abort").

import { type ParsedPayload, parseJobPayload } from "./payload.ts";

export interface JobVariable {
  key: string;
  value: string;
  public?: boolean;
  masked?: boolean;
  file?: boolean;
  raw?: boolean;
}

export interface JobImage {
  name: string;
  alias?: string;
  entrypoint?: string[];
  command?: string[];
  variables?: JobVariable[];
  executor_opts?: { docker?: { platform?: string; user?: string } };
}

export interface JobStep {
  name: string;
  script: string[];
  timeout: number;
  when: "on_success" | "on_failure" | "always";
  allow_failure: boolean;
}

export interface JobCache {
  key: string;
  untracked: boolean;
  policy: string;
  paths: string[];
  when: "on_success" | "on_failure" | "always";
}

export interface JobArtifactSpec {
  name?: string;
  untracked?: boolean;
  paths: string[];
  exclude?: string[];
  when?: "on_success" | "on_failure" | "always";
  artifact_type?: string;
  artifact_format?: string;
  expire_in?: string | null;
}

export interface JobDependency {
  id: number;
  name: string;
  token?: string;
  artifacts_file?: { filename: string; size: number };
}

export interface JobPayload {
  id: number;
  token: string;
  job_info: { id?: number; name: string; stage: string; project_id: number; project_name: string };
  git_info: {
    repo_url: string;
    ref: string;
    sha: string;
    ref_type: string;
    refspecs: string[];
    depth: number;
  };
  runner_info: { timeout: number };
  variables: JobVariable[];
  steps: JobStep[];
  image: JobImage | null;
  services: JobImage[] | null;
  cache: JobCache[] | null;
  artifacts?: JobArtifactSpec[] | null;
  dependencies?: JobDependency[] | null;
}

export interface RunnerInfo {
  name: string;
  version: string;
  revision: string;
  platform: string;
  architecture: string;
  executor: string;
  shell: string;
  features: Record<string, boolean>;
}

/** What GitLab said about the job in a trace or update answer. */
export interface RemoteJobState {
  status: number;
  /** Job-Status header: running, canceling, canceled, failed, success. */
  jobStatus: string | null;
  /** True when the runner must stop the job at once (canceled, failed, 403, 404). */
  aborted: boolean;
  cancelRequested: boolean;
}

export interface TracePatchResult extends RemoteJobState {
  /** The end offset GitLab holds (from its Range header), when it sent one. */
  remoteEnd: number | null;
  updateIntervalSeconds: number | null;
}

export class JobApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/$/, "")}/api/v4/${path}`;
  }

  async verify(): Promise<{ id: number }> {
    const res = await fetch(this.url("runners/verify"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: this.token }),
    }).catch((err: Error) => {
      const cause = (err.cause as Error | undefined)?.message ?? err.message;
      throw new Error(`cannot reach GitLab at ${this.baseUrl} (${cause}): is it up, and is the URL right?`);
    });
    if (res.status !== 200)
      throw new Error(`runner token refused by ${this.baseUrl} (${res.status} ${await res.text()})`);
    return (await res.json()) as { id: number };
  }

  /** One long poll; null when GitLab had no job. `signal` aborts the wait (shutdown). */
  async requestJob(
    info: RunnerInfo,
    lastUpdate: string | undefined,
    signal: AbortSignal,
  ): Promise<{ job: ParsedPayload | null; lastUpdate?: string }> {
    const res = await fetch(this.url("jobs/request"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: this.token, info, ...(lastUpdate ? { last_update: lastUpdate } : {}) }),
      signal,
    });
    const update = res.headers.get("x-gitlab-last-update") ?? undefined;
    if (res.status === 201) return { job: parseJobPayload(await res.text()), lastUpdate: update };
    await res.arrayBuffer();
    if (res.status === 204) return { job: null, lastUpdate: update };
    if (res.status === 403)
      throw new Error(`${this.baseUrl} refused the runner token (403): register the runner again`);
    throw new Error(`POST /jobs/request answered ${res.status}`);
  }

  async updateJob(
    job: Pick<JobPayload, "id" | "token">,
    update: { state: string; failure_reason?: string; exit_code?: number; output?: { bytesize: number } },
  ): Promise<RemoteJobState> {
    const res = await fetch(this.url(`jobs/${job.id}`), {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: job.token, ...update }),
    });
    await res.arrayBuffer();
    return remoteState(res);
  }

  /** POST /jobs/:id/artifacts (multipart, as gitlab-runner sends it); the answer's status. */
  async uploadArtifact(
    job: Pick<JobPayload, "id" | "token">,
    content: Buffer,
    filename: string,
    params: { artifact_type: string; artifact_format: string; expire_in?: string },
  ): Promise<number> {
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(content)]), filename);
    const query = new URLSearchParams(params);
    const res = await fetch(this.url(`jobs/${job.id}/artifacts?${query}`), {
      method: "POST",
      headers: { "JOB-TOKEN": job.token },
      body: form,
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** GET /jobs/:id/artifacts with the dependent job's token; undefined when GitLab has none to give. */
  async downloadArtifacts(dependencyId: number, token: string): Promise<Buffer | undefined> {
    const res = await fetch(this.url(`jobs/${dependencyId}/artifacts`), { headers: { "JOB-TOKEN": token } });
    if (res.status !== 200) {
      await res.arrayBuffer();
      return undefined;
    }
    return Buffer.from(await res.arrayBuffer());
  }

  async patchTrace(
    job: Pick<JobPayload, "id" | "token">,
    content: Buffer,
    offset: number,
  ): Promise<TracePatchResult> {
    const res = await fetch(this.url(`jobs/${job.id}/trace`), {
      method: "PATCH",
      headers: {
        "JOB-TOKEN": job.token,
        "Content-Range": `${offset}-${offset + content.length - 1}`,
        "Content-Type": "text/plain",
      },
      body: new Uint8Array(content),
    });
    await res.arrayBuffer();
    const range = res.headers.get("range");
    const interval = Number(res.headers.get("x-gitlab-trace-update-interval"));
    return {
      ...remoteState(res),
      remoteEnd: range ? Number(range.split("-")[1]) : null,
      updateIntervalSeconds: Number.isFinite(interval) && interval > 0 ? interval : null,
    };
  }
}

function remoteState(res: Response): RemoteJobState {
  const jobStatus = res.headers.get("job-status");
  const aborted =
    jobStatus === "canceled" || jobStatus === "failed" || res.status === 403 || res.status === 404;
  return { status: res.status, jobStatus, aborted, cancelRequested: jobStatus === "canceling" };
}
