// CI YAML as GitLab reads it. Expected values come from GitLab's own specs and docs, cited per case
// (gitlab-org/gitlab spec/lib/gitlab/ci/yaml_processor_spec.rb unless said otherwise).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandExisting } from "../../src/sim/gitlab/ci/expand-variables.ts";
import { ExpressionError, parseExpression } from "../../src/sim/gitlab/ci/expression.ts";
import {
  CiConfigError,
  evaluateExpression,
  type PipelineContext,
  parseDuration,
  readCiConfig,
  seedPipeline,
} from "../../src/sim/gitlab/index.ts";

const firstError = (text: string, files: Record<string, string> = {}) => {
  try {
    readCiConfig(text, (p) => files[p]);
  } catch (err) {
    if (err instanceof CiConfigError) return err.errors[0];
    throw err;
  }
  return undefined;
};

const context = (over: Partial<PipelineContext> = {}): PipelineContext => ({
  variables: { CI_PIPELINE_SOURCE: "push", CI_COMMIT_REF_NAME: "main", CI_COMMIT_BRANCH: "main" },
  source: "push",
  ref: "main",
  tag: false,
  files: [".gitlab-ci.yml", "README.md"],
  ...over,
});

const jobsOf = (text: string, over: Partial<PipelineContext> = {}, files: Record<string, string> = {}) =>
  seedPipeline(
    readCiConfig(text, (p) => files[p]),
    context(over),
  ).jobs;

describe("rules:if expressions (lib/gitlab/ci/pipeline/expression)", () => {
  it("compares, matches, combines and treats undefined variables as null", () => {
    const vars = { A: "x", EMPTY: "" };
    expect(evaluateExpression('$A == "x"', vars)).toBe(true);
    expect(evaluateExpression("$A != 'x'", vars)).toBe(false);
    expect(evaluateExpression("$MISSING == null", vars)).toBe(true);
    expect(evaluateExpression("$EMPTY", vars)).toBe(false);
    expect(evaluateExpression("$EMPTY == null", vars)).toBe(false);
    expect(evaluateExpression('$A =~ /^X$/i && ($MISSING || $A == "x")', vars)).toBe(true);
    expect(evaluateExpression("$A !~ /y/", vars)).toBe(true);
    expect(evaluateExpression("$MISSING =~ /x/", vars)).toBe(false);
    expect(evaluateExpression("$A =~ $PATTERN", { ...vars, PATTERN: "/^x$/" })).toBe(true);
    expect(() => parseExpression("$A ==")).toThrow(ExpressionError);
    expect(() => parseExpression("$A = 1")).toThrow(ExpressionError);
    expect(() => parseExpression("($A")).toThrow(ExpressionError);
  });

  it("equality holds exactly when the variable has that value (property)", () => {
    const value = fc.string({ maxLength: 12 }).filter((s) => !s.includes('"'));
    fc.assert(
      fc.property(value, value, (actual, literal) => {
        expect(evaluateExpression(`$V == "${literal}"`, { V: actual })).toBe(actual === literal);
      }),
    );
  });

  it("&& binds tighter than ||, and parentheses override it (property)", () => {
    const flag = fc.boolean();
    fc.assert(
      fc.property(flag, flag, flag, (x, y, z) => {
        const vars = Object.fromEntries(
          [
            ["X", x],
            ["Y", y],
            ["Z", z],
          ].flatMap(([k, v]) => (v ? [[k as string, "1"]] : [])),
        );
        expect(evaluateExpression("$X || $Y && $Z", vars)).toBe(x || (y && z));
        expect(evaluateExpression("($X || $Y) && $Z", vars)).toBe((x || y) && z);
      }),
    );
  });

  it("either parses or fails with ExpressionError, never anything else (property)", () => {
    const piece = fc.constantFrom(
      "$A",
      '"s"',
      "'t'",
      "/r/",
      "null",
      "==",
      "!=",
      "=~",
      "!~",
      "&&",
      "||",
      "(",
      ")",
      " ",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        try {
          evaluateExpression(parseExpression(pieces.join(" ")), { A: "x" });
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
        }
      }),
    );
  });
});

describe("durations", () => {
  it("parses GitLab's forms and rejects others", () => {
    expect(parseDuration("24h")).toBe(86_400);
    expect(parseDuration("1m 3s")).toBe(63); // yaml_processor_spec: timeout '1m 3s' → 63
    expect(parseDuration("90 minutes")).toBe(5_400);
    expect(parseDuration("3600")).toBe(3_600);
    expect(parseDuration("not-a-number")).toBeUndefined();
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

describe("lint: GitLab's first error for invalid configs", () => {
  const cases: [string, string, string][] = [
    [
      "rspec:\n  script: test\n  tags: mysql\n",
      "jobs:rspec:tags config should be an array of strings",
      "yaml_processor_spec 'tags parameter is invalid'",
    ],
    [
      "rspec:\n  script: test\n  when: 1\n",
      "jobs:rspec when should be one of: on_success, on_failure, always, manual, delayed",
      "yaml_processor_spec 'job when is not …'",
    ],
    [
      "rspec:\n  script: test\n  services: test\n",
      "jobs:rspec:services config should be an array",
      "yaml_processor_spec 'job services parameter is not an array'",
    ],
    [
      "rspec:\n  script: test\n  extends: something\n",
      "rspec: unknown keys in `extends` (something)",
      "yaml_processor_spec 'extended hash configuration is invalid'",
    ],
    [
      "rspec:\n  script: test\n  stage: acceptance\n",
      "rspec job: chosen stage acceptance does not exist; available stages are .pre, build, test, deploy, .post",
      "yaml_processor_spec 'job stage is not a pre-defined stage'",
    ],
    [
      "extra: bundle update\n",
      "jobs extra config should implement the script:, run:, or trigger: keyword",
      "yaml_processor_spec 'job configuration is invalid'",
    ],
    [
      "before_script: [bundle update]\n",
      "jobs config should contain at least one visible job",
      "yaml_processor_spec 'no jobs defined'",
    ],
    [
      "rspec:\n  script: test\n  allow_failure: string\n",
      "jobs:rspec allow failure should be a hash or a boolean value",
      "yaml_processor_spec allow_failure",
    ],
    [
      "rspec:\n  script: test\n  timeout: not-a-number\n",
      "jobs:rspec:timeout config should be a duration",
      "yaml_processor_spec timeout",
    ],
    [
      "rspec:\n  script: test\n  parallel: test\n",
      "jobs:rspec:parallel should be an integer or a hash",
      "yaml_processor_spec parallel",
    ],
    [
      "build1:\n  stage: build\n  script: t\ntest1:\n  stage: test\n  script: t\n  needs: [undefined]\n",
      "test1 job: undefined need: undefined",
      "yaml_processor_spec 'need is an undefined job'",
    ],
    [
      "deploy:\n  stage: deploy\n  script: t\ntest1:\n  stage: test\n  script: t\n  needs: [deploy]\n",
      "test1 job: need deploy is not defined in current or prior stages",
      "yaml_processor_spec 'needs to deploy'",
    ],
    [
      "test1:\n  script: t\n  dependencies: [undefined]\n",
      "test1 job: undefined dependency: undefined",
      "yaml_processor_spec 'undefined dependency'",
    ],
    [
      "rspec:\n  script: test\n  rules:\n    - if: $A\n      when: sometimes\n",
      "jobs:rspec:rules:rule when unknown value: sometimes",
      "rules/rule.rb AllowedValuesValidator",
    ],
    [
      "rspec:\n  script: test\n  rules:\n    - if: $A ==\n",
      "jobs:rspec:rules:rule if invalid expression syntax",
      "validators.rb ExpressionValidator",
    ],
    [
      "variables: test\nrspec:\n  script: test\n",
      "variables config should be a hash",
      "yaml_processor_spec 'variables is not a map'",
    ],
    [
      "stages: test\nrspec:\n  script: test\n",
      "stages config should be an array of strings or a nested array of strings up to 10 levels deep",
      "yaml_processor_spec 'stages is not an array'",
    ],
    [
      "rspec:\n  script: test\n  artifacts:\n    when: 1\n",
      "jobs:rspec:artifacts when should be one of: on_success, on_failure, always",
      "yaml_processor_spec artifacts:when",
    ],
    [
      "rspec:\n  script: [test]\n  only: [main]\n  rules:\n    - when: always\n",
      "jobs:rspec config key may not be used with `rules`: only",
      "processable.rb disallowed_keys",
    ],
    [
      "rspec:\n  script:\n    - !reference [.missing, script]\n",
      '!reference [".missing", "script"] could not be found',
      "config/yaml/tags/reference.rb",
    ],
    [
      "include: nope.yml\nrspec:\n  script: t\n",
      "Local file `nope.yml` does not exist!",
      "config/external/file/local.rb",
    ],
    [
      "workflow:\n  rules:\n    - if: $VAR\n  variables:\n    A: b\nrspec:\n  script: t\n",
      "workflow config contains unknown keys: variables",
      "yaml_processor_spec 'disallowed workflow:variables'",
    ],
    ["'invalid_yaml'\n", "Invalid configuration format", "yaml_processor_spec 'object is invalid'"],
  ];
  it.each(cases)("%s → %s (%s)", (text, expected) => {
    expect(firstError(text)).toBe(expected);
  });
});

describe("valid configs: GitLab's jobs, stages, needs", () => {
  it("resolves !reference, default:, extends (deep merge, later wins) and include:local", () => {
    const files = { "ci/base.yml": ".setup:\n  script: [echo setup]\n  variables: {A: base, B: base}\n" };
    const text = [
      "include:",
      "  - local: ci/base.yml",
      "default:",
      "  image: alpine:3",
      "  before_script: [echo default]",
      ".override:",
      "  variables: {B: override}",
      "job:",
      "  extends: [.setup, .override]",
      "  script:",
      "    - !reference [.setup, script]",
      "    - echo job",
      "",
    ].join("\n");
    const [job] = jobsOf(text, {}, files);
    expect(job!.script).toEqual(["echo setup", "echo job"]);
    expect(job!.beforeScript).toEqual(["echo default"]);
    expect(job!.image?.name).toBe("alpine:3");
    expect(Object.fromEntries(job!.variables.map((v) => [v.key, v.value]))).toEqual({
      A: "base",
      B: "override",
    });
  });

  it("names parallel and parallel:matrix jobs as GitLab does (normalizer/matrix_strategy.rb)", () => {
    const text =
      "build1:\n  stage: build\n  script: b\n  parallel:\n    matrix:\n      - PROVIDER: aws\n        STACK: [monitoring, app1, app2]\n" +
      "p:\n  stage: build\n  script: p\n  parallel: 2\n" +
      "test1:\n  stage: test\n  script: t\n  needs:\n    - job: build1\n      parallel:\n        matrix:\n          - PROVIDER: aws\n            STACK: app1\n    - p\n";
    const jobs = jobsOf(text);
    expect(jobs.map((j) => j.name)).toEqual([
      "build1: [aws, monitoring]",
      "build1: [aws, app1]",
      "build1: [aws, app2]",
      "p 1/2",
      "p 2/2",
      "test1",
    ]);
    // yaml_processor_spec 'needs with parallel:matrix' and 'needs parallel job'
    expect(jobs[5]!.needs?.map((n) => n.name)).toEqual(["build1: [aws, app1]", "p 1/2", "p 2/2"]);
    expect(jobs[1]!.variables).toContainEqual({ key: "STACK", value: "app1", raw: false });
  });

  it("expands variables in tags as GitLab does (seed/build.rb evaluate_runner_tags, expand_existing)", () => {
    const text = [
      "variables: {POOL: shared}",
      "part:",
      "  script: p",
      "  variables: {SIZE: large}",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: GitLab's ${VAR} in CI YAML, not a JS template
      "  tags: [wsparity, tier-$TIER, 'arch-${ARCH}', '%SIZE%', $POOL, $CI_PIPELINE_SOURCE, $NOPE, $LATER]",
      "  parallel:",
      "    matrix:",
      "      - TIER: sim",
      "        ARCH: [amd64, arm64]",
      "  rules:",
      "    - if: $CI_PIPELINE_SOURCE",
      "      variables: {LATER: from-rule}",
      "",
    ].join("\n");
    // An undefined variable stays as written; rules:variables come after the tags are evaluated (gitlab#469521).
    expect(jobsOf(text).map((j) => [j.name, j.tags])).toEqual([
      [
        "part: [sim, amd64]",
        ["wsparity", "tier-sim", "arch-amd64", "large", "shared", "push", "$NOPE", "$LATER"],
      ],
      [
        "part: [sim, arm64]",
        ["wsparity", "tier-sim", "arch-arm64", "large", "shared", "push", "$NOPE", "$LATER"],
      ],
    ]);
    // Pipeline (schedule, trigger, API) variables win over the YAML's.
    const scheduled = jobsOf(text, { variables: { CI_PIPELINE_SOURCE: "schedule", POOL: "nightly" } });
    expect(scheduled[0]!.tags).toContain("nightly");
  });

  it("expands only defined variables, one level, and leaves other text alone (property)", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    const plain = fc.string().filter((s) => !s.includes("$") && !s.includes("%"));
    // A name ends where a character that cannot be in a name starts.
    const rest = plain.filter((s) => !/^[A-Za-z0-9_]/.test(s));
    fc.assert(
      fc.property(name, plain, plain, rest, (key, value, before, after) => {
        const variables = { [key]: value };
        for (const ref of [`$${key}`, `\${${key}}`, `%${key}%`])
          expect(expandExisting(`${before}${ref}${after}`, variables)).toBe(`${before}${value}${after}`);
        expect(expandExisting(`${before}${after}`, variables)).toBe(`${before}${after}`);
        expect(expandExisting(`$${key}`, {})).toBe(`$${key}`);
        expect(expandExisting(`$${key}`, { [key]: "$OTHER", OTHER: "x" })).toBe("$OTHER");
      }),
    );
  });

  it("applies rules (first match), workflow:rules and only/except", () => {
    const text = [
      "workflow:",
      "  rules:",
      '    - if: $CI_PIPELINE_SOURCE == "schedule"',
      "      variables: {NIGHTLY: 'yes'}",
      '    - if: $CI_PIPELINE_SOURCE == "push"',
      "nightly:",
      "  script: n",
      "  rules:",
      '    - if: $NIGHTLY == "yes"',
      "      when: manual",
      "      allow_failure: true",
      "always:",
      "  script: a",
      "  only: [main]",
      "",
    ].join("\n");
    expect(jobsOf(text).map((j) => j.name)).toEqual(["always"]);
    const nightly = jobsOf(text, { source: "schedule", variables: { CI_PIPELINE_SOURCE: "schedule" } });
    expect(nightly.map((j) => [j.name, j.when, j.allowFailure])).toEqual([
      ["nightly", "manual", true],
      ["always", "on_success", false],
    ]);
    expect(() => jobsOf(text, { source: "web", variables: { CI_PIPELINE_SOURCE: "web" } })).toThrow(
      "Pipeline filtered out by workflow rules.",
    );
  });

  it("reports a needed job that rules removed, unless the need is optional", () => {
    const text = "a:\n  script: a\n  rules:\n    - if: $NOPE\nb:\n  script: b\n  needs: [a]\n";
    expect(() => jobsOf(text)).toThrow("'b' job needs 'a' job, but 'a' does not exist in the pipeline.");
    const optional = text.replace("needs: [a]", "needs: [{job: a, optional: true}]");
    expect(jobsOf(optional).map((j) => [j.name, j.needs])).toEqual([["b", []]]);
  });

  it("manual jobs may fail unless they say otherwise; exit_codes make allow_failure conditional", () => {
    const text =
      "m:\n  script: m\n  when: manual\nblocking:\n  script: b\n  when: manual\n  allow_failure: false\ncodes:\n  script: c\n  allow_failure:\n    exit_codes: [1, 137]\n";
    // yaml_processor_spec 'allow failure entry'
    expect(jobsOf(text).map((j) => [j.name, j.allowFailure, j.allowFailureExitCodes])).toEqual([
      ["m", true, []],
      ["blocking", false, []],
      ["codes", false, [1, 137]],
    ]);
  });
});
