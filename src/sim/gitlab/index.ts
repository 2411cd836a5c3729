export {
  CiConfigError,
  type CiJobDefinition,
  evaluateExpression,
  type PipelineContext,
  parseDuration,
  readCiConfig,
  seedPipeline,
} from "./ci/index.ts";
export { GitLabSimulator, type GitLabSimulatorOptions } from "./server.ts";
export type { Job, JobStatus, Pipeline, Runner, Store } from "./store.ts";
