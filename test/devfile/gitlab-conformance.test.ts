import { existsSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { enforceGitlabRestrictions, parseDevfileText } from "../../src/devfile/index.ts";
import { parseSource } from "../../src/devfile/source.ts";
import { describeUnless } from "../support/skip.ts";

// GitLab's own fixtures stay in ../shared (GitLab EE license: copying for development and testing is allowed,
// distributing is not). This test reads them where they are, and says plainly when they are not there.
// WSPARITY_SHARED_DIR points elsewhere (e.g. to check the skip path); by default ../shared beside the clone.
const sharedDir = process.env.WSPARITY_SHARED_DIR
  ? new URL(`file://${process.env.WSPARITY_SHARED_DIR.replace(/\/?$/, "/")}`)
  : new URL("../../../shared/", import.meta.url);
const conformanceDir = new URL("conformance/gitlab/", sharedDir);
const present = existsSync(new URL("expectations.yaml", conformanceDir));

interface Expectation {
  fixture: string;
  valid: boolean;
  errors: string[];
  match?: "includes" | "equals";
  input_key?: "devfile" | "processed_devfile";
  note?: string;
}

// This fixture is listed with no spec message; by its content GitLab's enforcer reports these two
// (expectations.yaml's note, inferred from restrictions_enforcer.rb).
const INFERRED: Record<string, string[]> = {
  "fixtures/example.invalid-restricted-prefix-event-type-prestop-name-devfile.yaml": [
    "Event type 'preStop' is not yet supported",
    "Event 'gl-example' of type 'preStop' must not start with 'gl-'",
  ],
};

describeUnless(
  present
    ? undefined
    : `${conformanceDir.pathname} is not here (GitLab's fixtures are never copied into the project); the project's own fixture per rule (gitlab-rules.test.ts) still ran`,
)("GitLab conformance (GitLab's own fixtures from ../shared)", () => {
  const all = present
    ? (parse(readFileSync(new URL("expectations.yaml", conformanceDir), "utf8")) as Expectation[])
    : [];
  const entries = all.filter((e) => !e.note?.startsWith("SUPERSEDED"));

  it("reads every non-superseded entry", () => {
    expect(entries.length).toBeGreaterThanOrEqual(30);
  });

  // Superseded entries record an older GitLab (postStart unsupported then); today's rules accept them.
  for (const entry of all.filter((e) => e.note?.startsWith("SUPERSEDED"))) {
    it(`${entry.fixture}: superseded, accepted by today's rules`, () => {
      const source = parseSource(readFileSync(new URL(entry.fixture, conformanceDir), "utf8"), entry.fixture);
      if (!source.ok) expect.fail(source.errors.map((e) => e.message).join("; "));
      expect(enforceGitlabRestrictions(source.source.value, { processed: true })).toEqual([]);
    });
  }

  for (const entry of entries) {
    const text = () => readFileSync(new URL(entry.fixture, conformanceDir), "utf8");
    const expected = entry.errors.length > 0 ? entry.errors : (INFERRED[entry.fixture] ?? []);

    it(`${entry.fixture}: ${entry.valid ? "accepted" : "rejected"} as GitLab does`, () => {
      const source = parseSource(text(), entry.fixture);
      if (!source.ok) expect.fail(source.errors.map((e) => e.message).join("; "));
      const processed = entry.input_key !== "devfile";
      const messages = enforceGitlabRestrictions(source.source.value, { processed }).map((v) => v.message);
      if (entry.valid) {
        expect(messages).toEqual([]);
        return;
      }
      expect(messages.length).toBeGreaterThan(0);
      if (entry.match === "equals") expect(messages[0]).toBe(expected[0]);
      for (const m of expected) expect(messages).toContain(m);
    });

    // The flattened fixtures are GitLab's output, not something a user writes; every other one goes
    // through the whole pipeline as a user's devfile.
    if (!entry.fixture.includes("flattened")) {
      it(`${entry.fixture}: the same verdict through --rules gitlab`, async () => {
        const result = await parseDevfileText(text(), entry.fixture, { rules: "gitlab" });
        expect(result.ok).toBe(entry.valid);
        if (!result.ok) for (const m of expected) expect(result.errors.map((e) => e.message)).toContain(m);
      });
    }
  }
});
