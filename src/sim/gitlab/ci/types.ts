// A job as the simulator keeps it after GitLab's config processing: every keyword normalised (defaults
// applied, extends and references resolved, parallel jobs expanded), ready for rules and pipeline creation.

export type JobWhen = "on_success" | "on_failure" | "always" | "manual" | "delayed" | "never";

export interface CiVariable {
  key: string;
  value: string;
  /** expand: false in YAML → the runner must not expand it. */
  raw: boolean;
}

export interface CiImage {
  name: string;
  entrypoint?: string[];
  command?: string[];
  alias?: string;
  variables?: CiVariable[];
  platform?: string;
  user?: string;
  pullPolicy?: string[];
}

export interface CiCache {
  key: string;
  paths: string[];
  when: "on_success" | "on_failure" | "always";
  policy: string;
  untracked: boolean;
  fallbackKeys: string[];
}

export interface CiArtifacts {
  name?: string;
  paths: string[];
  exclude: string[];
  untracked: boolean;
  when: "on_success" | "on_failure" | "always";
  expireIn?: string;
  exposeAs?: string;
  /** artifacts:reports: report type → paths. */
  reports: Record<string, string[]>;
}

export interface CiNeed {
  name: string;
  artifacts: boolean;
  optional: boolean;
}

export interface CiRule {
  if?: string;
  changes?: string[];
  exists?: string[];
  when?: JobWhen;
  startIn?: string;
  allowFailure?: boolean;
  variables: CiVariable[];
  needs?: CiNeed[];
  interruptible?: boolean;
}

export interface CiPolicy {
  refs?: string[];
  variables?: string[];
  changes?: string[];
  kubernetes?: string;
}

export interface CiJobDefinition {
  name: string;
  stage: string;
  stageIndex: number;
  image?: CiImage;
  services: CiImage[];
  variables: CiVariable[];
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  preGetSourcesScript: string[];
  timeoutSeconds?: number;
  tags: string[];
  cache: CiCache[];
  artifacts?: CiArtifacts;
  interruptible: boolean;
  when: Exclude<JobWhen, "never">;
  startIn?: string;
  /** GitLab's `ignore`: allow_failure as written, or true for a manual job without one. */
  allowFailure: boolean;
  /** allow_failure:exit_codes: a failure with one of these codes is allowed. */
  allowFailureExitCodes: number[];
  /** null: scheduled by stage; an array (possibly empty): scheduled by needs (DAG). */
  needs: CiNeed[] | null;
  /** null: every job of earlier stages; otherwise only these. */
  dependencies: string[] | null;
  retry: { max: number; when: string[]; exitCodes: number[] };
  resourceGroup?: string;
  environment?: string;
  coverage?: string;
  parallel?: { index: number; total: number; matrix?: Record<string, string> };
  /** inherit:variables: true, false or the root variables to take. */
  inheritVariables: boolean | string[];
  rules?: CiRule[];
  only?: CiPolicy;
  except?: CiPolicy;
}

export interface CiConfig {
  stages: string[];
  globalVariables: CiVariable[];
  workflowRules?: CiRule[];
  jobs: CiJobDefinition[];
}
