export { CiConfigError, type CiJobDefinition, evaluateCiConfig, parseDuration } from "./ci-config.ts";
export { evaluateIf } from "./rules.ts";
export { GitLabSimulator, type GitLabSimulatorOptions } from "./server.ts";
export type { Job, JobStatus, Pipeline, Runner, Store } from "./store.ts";
