// How GitLab moves a pipeline on (app/services/ci/pipeline_processing/atomic_processing_service.rb,
// ci/process_build_service.rb, lib/gitlab/ci/status/composite.rb): a created job is decided once the jobs
// it waits for are complete — the jobs of all earlier stages, or only its `needs` — from their composite
// status and its `when`; the pipeline's status is the composite of all its jobs. Allowed-to-fail failures
// count as "success with warnings" and unplayed allowed-to-fail manual jobs as "ignored".

export type JobStatus =
  | "created"
  | "waiting_for_resource"
  | "preparing"
  | "pending"
  | "running"
  | "success"
  | "failed"
  | "canceling"
  | "canceled"
  | "skipped"
  | "manual"
  | "scheduled";

export const COMPLETED: readonly JobStatus[] = ["success", "failed", "canceled", "skipped"];

export interface ProcessableJob {
  name: string;
  status: JobStatus;
  allowFailure: boolean;
  stageIndex: number;
  when: string;
  needs: string[] | null;
}

type CompositeMember = JobStatus | "success_with_warnings" | "ignored";

/** Gitlab::Ci::Status::Composite#status; undefined for no jobs. */
export function compositeStatus(
  jobs: readonly Pick<ProcessableJob, "status" | "allowFailure">[],
  dag = false,
) {
  if (jobs.length === 0) return undefined;
  const set = new Set<CompositeMember>(
    jobs.map((j) => {
      if (j.allowFailure && (j.status === "failed" || j.status === "canceled"))
        return "success_with_warnings";
      if (j.allowFailure && j.status === "manual") return "ignored";
      return j.status;
    }),
  );
  const only = (...names: CompositeMember[]) => [...set].every((s) => names.includes(s));
  const any = (...names: CompositeMember[]) => names.some((n) => set.has(n));
  if (dag && any("skipped", "ignored")) return "skipped";
  if (dag && !only("success", "failed", "canceled", "skipped", "success_with_warnings")) return "pending";
  if (only("skipped", "ignored")) return "skipped";
  if (only("success", "skipped", "success_with_warnings", "ignored")) return "success";
  if (only("created", "success_with_warnings", "ignored")) return "created";
  if (only("preparing", "success_with_warnings", "ignored")) return "preparing";
  if (only("canceled", "success", "skipped", "success_with_warnings", "ignored")) return "canceled";
  if (only("pending", "created", "skipped", "success_with_warnings", "ignored")) return "pending";
  if (any("running", "pending", "canceling")) return "running";
  if (any("waiting_for_resource")) return "waiting_for_resource";
  if (any("manual")) return "manual";
  if (any("scheduled")) return "scheduled";
  if (any("preparing")) return "preparing";
  if (any("created")) return "running";
  return "failed";
}

/** Ci::ProcessBuildService#valid_statuses_for_build. */
function validStatuses(job: ProcessableJob): string[] {
  switch (job.when) {
    case "on_success":
    case "manual":
    case "delayed":
      return job.needs !== null ? ["success"] : ["success", "skipped"];
    case "on_failure":
      return ["failed"];
    case "always":
      return ["success", "failed", "skipped"];
    default:
      return [];
  }
}

export type Decision = "enqueue" | "manual" | "schedule" | "skip";

/**
 * Decides every created job whose prerequisites are complete, in stage order, as often as a decision
 * frees another; `decide` applies each decision (and must change the job's status).
 */
export function processJobs<J extends ProcessableJob>(
  jobs: J[],
  decide: (job: J, decision: Decision) => void,
): void {
  const ordered = [...jobs].sort((a, b) => a.stageIndex - b.stageIndex);
  for (let changed = true; changed; ) {
    changed = false;
    for (const job of ordered) {
      if (job.status !== "created") continue;
      const prerequisites =
        job.needs !== null
          ? jobs.filter((j) => job.needs!.includes(j.name))
          : jobs.filter((j) => j.stageIndex < job.stageIndex);
      const status = compositeStatus(prerequisites, job.needs !== null) ?? "success";
      if (!COMPLETED.includes(status as JobStatus)) continue;
      if (!validStatuses(job).includes(status)) decide(job, "skip");
      else if (job.when === "delayed") decide(job, "schedule");
      else if (job.when === "manual") decide(job, "manual");
      else decide(job, "enqueue");
      changed = true;
    }
  }
}
