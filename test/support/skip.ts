import { describe } from "vitest";

/**
 * `describe`, skipped when `missing` names something the suite needs and this machine lacks. The reason
 * goes into the suite's title, so every skipped test shows it (and test/support/skip-reporter.ts lists
 * them after the run); hooks inside a skipped suite do not run.
 */
export function describeUnless(missing: string | undefined) {
  return (title: string, body: () => void) =>
    describe.skipIf(missing !== undefined)(
      missing === undefined ? title : `${title} [skipped: ${missing}]`,
      body,
    );
}
