import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { humanSize, rubyInspect } from "../../src/devfile/gitlab-rules.ts";
import { enforceGitlabRestrictions, parseDevfileText } from "../../src/devfile/index.ts";
import { locate, parseSource } from "../../src/devfile/source.ts";

interface RuleCase {
  rule: string;
  input: "devfile" | "processed";
  expect: string[];
  devfile: string;
}

const cases = parse(
  readFileSync(new URL("../fixtures/devfiles/gitlab-rules/cases.yaml", import.meta.url), "utf8"),
) as RuleCase[];

function parsed(text: string) {
  const result = parseSource(text, "case.yaml");
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("; "));
  return result.source;
}

describe("GitLab devfile rules (the project's own fixture per rule)", () => {
  it("has a case for every rule", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
  });

  for (const c of cases) {
    it(`${c.rule}: GitLab's verdict and messages`, () => {
      const source = parsed(c.devfile);
      const violations = enforceGitlabRestrictions(source.value, { processed: c.input === "processed" });
      expect(violations.map((v) => v.message)).toEqual(c.expect);
      for (const v of violations) {
        expect(v.pointer === "" || v.pointer.startsWith("/")).toBe(true);
        expect(locate(source, v.pointer).line).toBeGreaterThanOrEqual(1);
      }
    });

    if (c.input === "devfile") {
      it(`${c.rule}: the same verdict through loadDevfile --rules gitlab`, async () => {
        const result = await parseDevfileText(c.devfile, "case.yaml", { rules: "gitlab" });
        if (c.expect.length === 0) {
          expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([]);
        } else {
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.errors.map((e) => e.message)).toEqual(c.expect);
            for (const e of result.errors) expect(e.rule).toBe("gitlab");
          }
        }
      });
    }
  }

  it("refuses a devfile whose JSON form exceeds 3 MB, with GitLab's message", async () => {
    // 1.9 million double quotes: a 1.9 MB file whose JSON form (each quote escaped) is 3.62 MB, as GitLab measures it.
    const text = `schemaVersion: 2.2.0
metadata:
  description: |
    ${'"'.repeat(1_900_000)}
components:
  - name: tooling
    attributes: {gl/inject-editor: true}
    container:
      image: alpine
`;
    const result = await parseDevfileText(text, "big.yaml", { rules: "gitlab" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.message).toBe("Devfile size (3.62 MB) exceeds the maximum allowed size of 3 MB");
    // The devfile specification itself has no size limit below GitLab's file limit.
    expect((await parseDevfileText(text, "big.yaml")).ok).toBe(true);
  });

  describe("what GitLab's YAML reader (Psych safe_load) refuses before any rule", () => {
    const withValue = (value: string) => `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes: {gl/inject-editor: true}
    container:
      image: alpine
      env:
        - {name: A, value: ${value}}
`;
    const cases: [string, string, string][] = [
      [
        "an alias",
        "&v x}\n        - {name: B, value: *v",
        "Alias parsing was not enabled. To enable it, pass `aliases: true` to `Psych::load` or `Psych::safe_load`.",
      ],
      ["a date", "2024-01-31", "Tried to load unspecified class: Date"],
      ["a time", "2024-01-31 10:00:00", "Tried to load unspecified class: Time"],
      ["a symbol", ":fast", "Tried to load unspecified class: Symbol"],
    ];
    for (const [what, value, psych] of cases) {
      it(`${what}: "Devfile YAML could not be parsed: ${psych}", located`, async () => {
        const result = await parseDevfileText(withValue(value), "d.yaml", { rules: "gitlab" });
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.errors.map((e) => e.message)).toEqual([`Devfile YAML could not be parsed: ${psych}`]);
        expect(result.errors[0]!.line).toBe(what === "an alias" ? 9 : 8);
        expect(result.errors[0]!.pointer).toMatch(/^\/components\/0\/container\/env\/[01]\/value$/);
        // The devfile specification has no such limits.
        expect((await parseDevfileText(withValue(value), "d.yaml")).ok).toBe(true);
      });
    }

    it("quoted, the same values are plain strings to GitLab too", async () => {
      for (const value of ["'2024-01-31'", "':fast'"]) {
        expect((await parseDevfileText(withValue(value), "d.yaml", { rules: "gitlab" })).ok).toBe(true);
      }
    });
  });

  it("formats sizes as ActiveSupport's number_to_human_size", () => {
    expect(humanSize(3 * 1024 * 1024)).toBe("3 MB");
    expect(humanSize(3_600_000)).toBe("3.43 MB");
    expect(humanSize(1536)).toBe("1.5 KB");
    expect(humanSize(512)).toBe("512 Bytes");
  });

  it("prints values as Ruby's inspect", () => {
    expect(rubyInspect(["a", null, 1, true])).toBe('["a", nil, 1, true]');
    expect(rubyInspect({ name: "x", "gl/a": [] })).toBe('{name: "x", "gl/a": []}');
  });

  it("locates each message at the element it is about", async () => {
    const text = `schemaVersion: 2.2.0
components:
  - name: tooling
    attributes: {gl/inject-editor: true}
    container:
      image: alpine
      endpoints:
        - name: gl-web
          targetPort: 8080
`;
    const result = await parseDevfileText(text, "dir/devfile.yaml", { rules: "gitlab" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toMatchObject({
      file: "dir/devfile.yaml",
      line: 8,
      column: 17,
      pointer: "/components/0/container/endpoints/0/name",
      field: "components[0].container.endpoints[0].name",
      message: "Endpoint name 'gl-web' of component 'tooling' must not start with 'gl-'",
      rule: "gitlab",
    });
  });
});
