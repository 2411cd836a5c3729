/** On every container, network and volume the project creates: what cleanup looks for. */
export const MANAGED_LABEL = "io.wsparity.managed";
/** Which run made it, for people reading `docker ps`. */
export const RUN_LABEL = "io.wsparity.run";
/** Which process made it: cleanup at the start of a run removes what belongs to processes that are gone. */
export const OWNER_PID_LABEL = "io.wsparity.owner-pid";

let runId = process.env.WSPARITY_RUN_ID ?? `${Date.now().toString(36)}-${process.pid}`;

export function currentRunId(): string {
  return runId;
}

/** The harness names the run after its report's runId. */
export function setRunId(id: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
    throw new Error(`run id ${JSON.stringify(id)}: use 1-64 of A-Z a-z 0-9 _ . -`);
  runId = id;
}

export function managedLabels(): Record<string, string> {
  return { [MANAGED_LABEL]: "true", [RUN_LABEL]: runId, [OWNER_PID_LABEL]: String(process.pid) };
}

/** Docker label filters for what this process made. */
export function ownLabelFilters(): string[] {
  return [`${MANAGED_LABEL}=true`, `${OWNER_PID_LABEL}=${process.pid}`];
}
