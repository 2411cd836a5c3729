// The CI Lint API's view of a config (lib/api/lint.rb, Gitlab::Ci::Lint): valid or every error in order,
// GitLab's warnings, and the merged YAML (includes, extends and !reference resolved).

import { stringify } from "yaml";
import { mergeCiConfig, readCiConfig } from "./config.ts";
import { CiConfigError } from "./errors.ts";
import type { FileReader } from "./include.ts";
import type { CiConfig } from "./types.ts";

export interface LintResult {
  valid: boolean;
  errors: string[];
  warnings: string[];
  mergedYaml: string | null;
  config?: CiConfig;
}

const DOCS = "read more: https://docs.gitlab.com/ee/ci/troubleshooting.html#pipeline-warnings";

export function lintCiConfig(text: string, readFile: FileReader = () => undefined): LintResult {
  if (text.trim() === "")
    return {
      valid: false,
      errors: ["Please provide content of .gitlab-ci.yml"],
      warnings: [],
      mergedYaml: null,
    };
  try {
    const merged = mergeCiConfig(text, readFile);
    const config = readCiConfig(text, readFile);
    // Processable#validate_against_warnings: a last rule that is only a `when` (not never), without workflow:rules.
    const warnings = config.workflowRules
      ? []
      : config.jobs.flatMap((job) => {
          const last = job.rules?.at(-1);
          const onlyWhen =
            last &&
            last.when &&
            last.when !== "never" &&
            last.if === undefined &&
            !last.changes &&
            !last.exists;
          return onlyWhen
            ? [
                `jobs:${job.name} may allow multiple pipelines to run for a single action due to \`rules:when\` clause with no \`workflow:rules\` - ${DOCS}`,
              ]
            : [];
        });
    return {
      valid: true,
      errors: [],
      warnings: [...new Set(warnings)],
      mergedYaml: stringify(merged),
      config,
    };
  } catch (err) {
    if (err instanceof CiConfigError)
      return { valid: false, errors: err.errors, warnings: [], mergedYaml: null };
    throw err;
  }
}
