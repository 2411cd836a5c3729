import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CiConfigError, evaluateCiConfig, evaluateIf, parseDuration } from "../../src/sim/gitlab/index.ts";

describe("rules:if expressions", () => {
  it("compares, matches, combines and treats undefined variables as null", () => {
    const vars = { A: "x", EMPTY: "" };
    expect(evaluateIf('$A == "x"', vars)).toBe(true);
    expect(evaluateIf("$A != 'x'", vars)).toBe(false);
    expect(evaluateIf("$MISSING == null", vars)).toBe(true);
    expect(evaluateIf("$EMPTY", vars)).toBe(false);
    expect(evaluateIf('$A =~ /^X$/i && ($MISSING || $A == "x")', vars)).toBe(true);
    expect(evaluateIf("$A !~ /y/", vars)).toBe(true);
    expect(() => evaluateIf("$A ==", vars)).toThrow();
  });

  it("equality holds exactly when the variable has that value (property)", () => {
    const value = fc.string({ maxLength: 12 }).filter((s) => !/["\\]/.test(s));
    fc.assert(
      fc.property(value, value, (actual, literal) => {
        expect(evaluateIf(`$V == "${literal}"`, { V: actual })).toBe(actual === literal);
      }),
    );
  });
});

describe("durations", () => {
  it("parses GitLab's forms and rejects others", () => {
    expect(parseDuration("24h")).toBe(86_400);
    expect(parseDuration("1h 30m")).toBe(5_400);
    expect(parseDuration("90 minutes")).toBe(5_400);
    expect(parseDuration("3600")).toBe(3_600);
    expect(parseDuration("soon")).toBeUndefined();
  });

  it("adds up any combination of hours, minutes and seconds (property)", () => {
    fc.assert(
      fc.property(fc.nat(48), fc.nat(59), fc.nat(59), (h, m, s) => {
        fc.pre(h + m + s > 0);
        expect(parseDuration(`${h}h ${m}m ${s}s`)).toBe(h * 3600 + m * 60 + s);
      }),
    );
  });
});

describe("evaluateCiConfig", () => {
  it("reports every problem at once, worded like GitLab", () => {
    const text = "stages: [a]\nj1:\n  stage: b\n  script: x\n  foo: 1\nj2:\n  image: alpine\n";
    try {
      evaluateCiConfig(text, {});
      expect.unreachable();
    } catch (err) {
      expect((err as CiConfigError).errors).toEqual([
        "jobs:j1 config contains unknown keys: foo",
        "j1 job: chosen stage b does not exist; available stages are .pre, a, .post",
        "jobs:j2 config should implement the script:, run:, or trigger: keyword",
        "j2 job: chosen stage test does not exist; available stages are .pre, a, .post",
      ]);
    }
  });

  it("names the YAML error for unparsable text", () => {
    expect(() => evaluateCiConfig("a: [", {})).toThrow(CiConfigError);
  });
});
