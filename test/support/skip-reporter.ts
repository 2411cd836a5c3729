import type { Reporter, TestModule } from "vitest/node";

/**
 * After the run, lists every skipped test with why (its `ctx.skip(reason)` note, or the reason
 * test/support/skip.ts put in its suite's title), so a skip never passes unnoticed in CI's log.
 */
export default class SkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests("skipped")) {
        const result = test.result();
        const note = result.state === "skipped" ? result.note : undefined;
        lines.push(
          `  ↓ ${module.moduleId.replace(`${process.cwd()}/`, "")} > ${test.fullName}${note ? ` [${note}]` : ""}`,
        );
      }
    }
    if (lines.length === 0) return;
    process.stdout.write(`\nskipped (${lines.length}):\n${lines.join("\n")}\n`);
  }
}
