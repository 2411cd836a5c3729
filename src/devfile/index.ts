// The devfile engine's public surface: everything else in src/devfile is internal.
export { type DevfileError, formatError } from "./errors.ts";
export { enforceGitlabRestrictions, type GitlabViolation, gitlabProcessedView } from "./gitlab-rules.ts";
export {
  type DevfileResult,
  type LoadOptions,
  loadDevfile,
  parseDevfileText,
  type RuleSet,
  UNREADABLE_RULE,
} from "./load.ts";
export { precompileSchemas, SCHEMA_VERSIONS } from "./schemas.ts";
export * from "./spec.ts";
