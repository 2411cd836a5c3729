export { mergeCiConfig, readCiConfig } from "./config.ts";
export { parseDuration } from "./duration.ts";
export { CiConfigError } from "./errors.ts";
export { ExpressionError, evaluateExpression, isValidExpression, parseExpression } from "./expression.ts";
export { type LintResult, lintCiConfig } from "./lint.ts";
export { type PipelineContext, type SeededPipeline, seedPipeline } from "./seed.ts";
export type * from "./types.ts";
