import { describe, expect, it } from "vitest";
import { findDevfiles, formatSummary, summarise } from "../../src/devfile/run-validate.ts";

const REJECTED_BY_GITLAB: Record<string, string> = {
  "scenarios/devfiles/prestop.devfile.yaml": "Event type 'preStop' is not yet supported",
};

describe("the project's own devfiles (scenarios/devfiles)", async () => {
  const files = await findDevfiles("scenarios/devfiles");

  it("finds the devfiles and skips the README", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files.every((f) => f.endsWith(".yaml"))).toBe(true);
  });

  for (const file of files) {
    it(`${file}: valid by default, and GitLab's verdict is the documented one`, async () => {
      const row = await summarise(file);
      expect(row.defaultRules).toBe("valid");
      const rejection = REJECTED_BY_GITLAB[file];
      if (rejection) expect(row.gitlabRules).toContain(rejection);
      else expect(row.gitlabRules).toBe("valid");
    });
  }

  it("prints one table row per devfile", async () => {
    const rows = await Promise.all(files.slice(0, 2).map((file) => summarise(file)));
    const table = formatSummary(rows).split("\n");
    expect(table[0]).toBe(
      "| file | schemaVersion | containers | endpoints | default rules | gitlab rules (first error) |",
    );
    expect(table).toHaveLength(4);
    expect(table[2]).toContain(files[0]);
  });
});
