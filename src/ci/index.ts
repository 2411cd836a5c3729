export {
  type GracefulStop,
  type JobState,
  type LaunchedWorkspace,
  type LaunchOptions,
  WorkspaceLauncher,
  workspaceRef,
} from "./launcher.ts";
export {
  dnsLabel,
  EDITOR_PORT,
  EPHEMERAL_VOLUMES_DIR,
  generatePipeline,
  JOB_NAME,
  TOOLS_SERVICE_ALIAS,
  VOLUMES_DIR,
} from "./pipeline.ts";
export { type CiSchemaResult, validateCiConfig } from "./schema.ts";
export { isShellVariableName, shellPathWord, shellQuote } from "./shell-quote.ts";
export * from "./types.ts";
export { WORKSPACE_AFTER_SCRIPT, WORKSPACE_SCRIPT } from "./workspace-script.ts";
