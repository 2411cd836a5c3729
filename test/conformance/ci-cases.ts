// CI YAML cases with GitLab's answers, each from GitLab's docs or source (paths in gitlab-org/gitlab).

export interface ValidCase {
  name: string;
  source: string;
  yaml: string;
  /** Pipeline variables (e.g. to steer rules). */
  variables?: Record<string, string>;
  /** Jobs GitLab creates: name → [stage, status right after creation]. */
  jobs: Record<string, [string, string]>;
  /** needs as GitLab expands them, for the jobs that have needs. */
  needs?: Record<string, string[]>;
}

export interface InvalidCase {
  name: string;
  source: string;
  yaml: string;
  error: string;
}

const SPEC = "spec/lib/gitlab/ci/yaml_processor_spec.rb";

export const VALID: ValidCase[] = [
  {
    name: "stages run in order: later stages wait (created)",
    source: "doc/ci/yaml/_index.md#stages",
    yaml: "stages: [build, test]\nb:\n  stage: build\n  script: b\nt:\n  stage: test\n  script: t\n",
    jobs: { b: ["build", "pending"], t: ["test", "created"] },
  },
  {
    name: "needs: [] starts at once",
    source: "doc/ci/yaml/_index.md#needs (needs: [])",
    yaml: "stages: [build, test]\nb:\n  stage: build\n  script: b\nt:\n  stage: test\n  needs: []\n  script: t\n",
    jobs: { b: ["build", "pending"], t: ["test", "pending"] },
    needs: { t: [] },
  },
  {
    name: "parallel: N names jobs i/N",
    source: `${SPEC} 'needs parallel job'`,
    yaml: "p:\n  script: p\n  parallel: 3\n",
    jobs: { "p 1/3": ["test", "pending"], "p 2/3": ["test", "pending"], "p 3/3": ["test", "pending"] },
  },
  {
    name: "parallel:matrix names jobs 'name: [v1, v2]'",
    source: "lib/gitlab/ci/config/normalizer/matrix_strategy.rb; doc/ci/yaml/_index.md#parallelmatrix",
    yaml: "deploy:\n  script: d\n  parallel:\n    matrix:\n      - PROVIDER: aws\n        STACK: [monitoring, app1]\n      - PROVIDER: gcp\n        STACK: [data]\n",
    jobs: {
      "deploy: [aws, monitoring]": ["test", "pending"],
      "deploy: [aws, app1]": ["test", "pending"],
      "deploy: [gcp, data]": ["test", "pending"],
    },
  },
  {
    name: "needs on a matrix job with parallel:matrix picks one instance",
    source: `${SPEC} 'needs with parallel:matrix'`,
    yaml: "stages: [build, test]\nbuild1:\n  stage: build\n  script: b\n  parallel:\n    matrix:\n      - PROVIDER: [aws]\n        STACK: [monitoring, app1, app2]\ntest1:\n  stage: test\n  script: t\n  needs:\n    - job: build1\n      parallel:\n        matrix:\n          - PROVIDER: aws\n            STACK: app1\n",
    jobs: {
      "build1: [aws, monitoring]": ["build", "pending"],
      "build1: [aws, app1]": ["build", "pending"],
      "build1: [aws, app2]": ["build", "pending"],
      test1: ["test", "created"],
    },
    needs: { test1: ["build1: [aws, app1]"] },
  },
  {
    name: "when: manual shows manual",
    source: "doc/ci/jobs/job_control.md#create-a-job-that-must-be-run-manually",
    yaml: "deploy:\n  script: d\n  when: manual\n",
    jobs: { deploy: ["test", "manual"] },
  },
  {
    name: "when: delayed is scheduled",
    source: "doc/ci/jobs/job_control.md#run-a-job-after-a-delay",
    yaml: "later:\n  script: l\n  when: delayed\n  start_in: 30 minutes\n",
    jobs: { later: ["test", "scheduled"] },
  },
  {
    name: "rules: first match decides; when: never drops the job",
    source: "doc/ci/yaml/_index.md#rules",
    yaml: 'a:\n  script: a\n  rules:\n    - if: $MODE == "x"\n      when: never\n    - when: on_success\nb:\n  script: b\n  rules:\n    - if: $MODE == "x"\n',
    variables: { MODE: "x" },
    jobs: { b: ["test", "pending"] },
  },
  {
    name: "rules with $CI_PIPELINE_SOURCE",
    source: "doc/ci/jobs/job_rules.md#ci_pipeline_source-predefined-variable",
    yaml: 'api-only:\n  script: a\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "api"\nschedule-only:\n  script: s\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"\n',
    jobs: { "api-only": ["test", "pending"] },
  },
  {
    name: "rules:when manual without allow_failure blocks (manual)",
    source: "doc/ci/yaml/_index.md#rulesallow_failure",
    yaml: "stages: [a, b]\nm:\n  stage: a\n  script: m\n  rules:\n    - when: manual\nafter:\n  stage: b\n  script: x\n",
    jobs: { m: ["a", "manual"], after: ["b", "created"] },
  },
  {
    name: "workflow:rules variables reach the jobs' rules",
    source: "doc/ci/yaml/workflow.md#workflowrulesvariables",
    yaml: 'workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "api"\n      variables: {FLAVOUR: api}\nj:\n  script: j\n  rules:\n    - if: $FLAVOUR == "api"\n',
    jobs: { j: ["test", "pending"] },
  },
  {
    name: "only/except refs",
    source: "doc/ci/yaml/_index.md#onlyrefs--exceptrefs",
    yaml: "on-main:\n  script: m\n  only: [main]\nnot-main:\n  script: n\n  except: [main]\nbranches:\n  script: b\n  only: [branches]\n",
    jobs: { "on-main": ["test", "pending"], branches: ["test", "pending"] },
  },
  {
    name: "extends and !reference",
    source: "doc/ci/yaml/yaml_optimization.md#use-extends-to-reuse-configuration-sections; #reference-tags",
    yaml: ".base:\n  stage: build\n  script: [echo base]\n.tags:\n  before: [echo before]\njob:\n  extends: .base\n  before_script: !reference [.tags, before]\n",
    jobs: { job: ["build", "pending"] },
  },
  {
    name: "include:local merges the included file first",
    source: "doc/ci/yaml/includes.md#include-a-single-configuration-file",
    yaml: "include: ci/jobs.yml\nmain-job:\n  script: m\n",
    jobs: { "included-job": ["test", "pending"], "main-job": ["test", "pending"] },
  },
  {
    name: ".pre runs before the first stage",
    source: "doc/ci/yaml/_index.md#stage-pre",
    yaml: "stages: [build]\nfirst:\n  stage: .pre\n  script: f\nb:\n  stage: build\n  script: b\n",
    jobs: { first: [".pre", "pending"], b: ["build", "created"] },
  },
];

export const INCLUDED_FILES: Record<string, string> = { "ci/jobs.yml": "included-job:\n  script: i\n" };

export const INVALID: InvalidCase[] = [
  {
    name: "tags as a string",
    source: `${SPEC} 'tags parameter is invalid'`,
    yaml: "rspec:\n  script: test\n  tags: mysql\n",
    error: "jobs:rspec:tags config should be an array of strings",
  },
  {
    name: "unknown job when",
    source: `${SPEC} 'job when is not on_success, on_failure or always'`,
    yaml: "rspec:\n  script: test\n  when: 1\n",
    error: "jobs:rspec when should be one of: on_success, on_failure, always, manual, delayed",
  },
  {
    name: "services not an array",
    source: `${SPEC} 'job services parameter is not an array'`,
    yaml: "rspec:\n  script: test\n  services: test\n",
    error: "jobs:rspec:services config should be an array",
  },
  {
    name: "extends an unknown key",
    source: `${SPEC} 'extended hash configuration is invalid'`,
    yaml: "rspec:\n  extends: something\n  script: test\n",
    error: "rspec: unknown keys in `extends` (something)",
  },
  {
    name: "stage not defined",
    source: `${SPEC} 'job stage is not a pre-defined stage'`,
    yaml: "rspec:\n  script: test\n  stage: acceptance\n",
    error:
      "rspec job: chosen stage acceptance does not exist; available stages are .pre, build, test, deploy, .post",
  },
  {
    name: "job without script",
    source: `${SPEC} 'job configuration is invalid'`,
    yaml: "extra: bundle update\n",
    error: "jobs extra config should implement the script:, run:, or trigger: keyword",
  },
  {
    name: "no visible job",
    source: `${SPEC} 'no visible jobs defined'`,
    yaml: 'before_script: ["bundle update"]\n.hidden:\n  script: ls\n',
    error: "jobs config should contain at least one visible job",
  },
  {
    name: "allow_failure a string",
    source: `${SPEC} 'allow_failure parameter is not an boolean'`,
    yaml: "rspec:\n  script: test\n  allow_failure: string\n",
    error: "jobs:rspec allow failure should be a hash or a boolean value",
  },
  {
    name: "allow_failure:exit_codes a string",
    source: `${SPEC} 'exit_code parameter from allow_failure is not an integer'`,
    yaml: "rspec:\n  script: test\n  allow_failure:\n    exit_codes: string\n",
    error: "jobs:rspec:allow_failure exit codes should be an array of integers or an integer",
  },
  {
    name: "stage not a string",
    source: `${SPEC} 'job stage is not a string'`,
    yaml: "rspec:\n  script: test\n  stage: 1\n",
    error: "jobs:rspec:stage config should be a string",
  },
  {
    name: "stages not an array",
    source: `${SPEC} 'stages is not an array'`,
    yaml: "stages: test\nrspec:\n  script: test\n",
    error: "stages config should be an array of strings or a nested array of strings up to 10 levels deep",
  },
  {
    name: "variables not a hash",
    source: `${SPEC} 'variables is not a map'`,
    yaml: "variables: test\nrspec:\n  script: test\n",
    error: "variables config should be a hash",
  },
  {
    name: "artifacts:when unknown",
    source: `${SPEC} 'job artifacts:when is not an a predefined value'`,
    yaml: "rspec:\n  script: test\n  artifacts:\n    when: 1\n",
    error: "jobs:rspec:artifacts when should be one of: on_success, on_failure, always",
  },
  {
    name: "artifacts:expire_in not a duration",
    source: `${SPEC} 'job artifacts:expire_in is not an a valid duration'`,
    yaml: 'rspec:\n  script: test\n  artifacts:\n    expire_in: "7 elephants"\n',
    error: "jobs:rspec:artifacts expire in should be a duration",
  },
  {
    name: "artifacts:paths a string",
    source: `${SPEC} 'job artifacts:paths is not an array of strings'`,
    yaml: "rspec:\n  script: test\n  artifacts:\n    paths: string\n",
    error: "jobs:rspec:artifacts paths should be an array of strings",
  },
  {
    name: "dependencies a string",
    source: `${SPEC} 'job dependencies is not an array of strings'`,
    yaml: "rspec:\n  script: test\n  dependencies: string\n",
    error: "jobs:rspec dependencies should be an array of strings",
  },
  {
    name: "timeout not a duration",
    source: `${SPEC} 'invalid timeout was provided'`,
    yaml: "deploy_to_production:\n  stage: deploy\n  script: test\n  timeout: not-a-number\n",
    error: "jobs:deploy_to_production:timeout config should be a duration",
  },
  {
    name: "parallel a string",
    source: `${SPEC} 'parallel is invalid'`,
    yaml: "rspec:\n  parallel: test\n  script: test\n",
    error: "jobs:rspec:parallel should be an integer or a hash",
  },
  {
    name: "needs an undefined job",
    source: `${SPEC} 'need is an undefined job'`,
    yaml: "build1:\n  stage: build\n  script: test\ntest1:\n  stage: test\n  script: test\n  needs: [undefined]\n",
    error: "test1 job: undefined need: undefined",
  },
  {
    name: "needs a later stage",
    source: `${SPEC} 'needs to deploy'`,
    yaml: "deploy:\n  stage: deploy\n  script: test\ntest1:\n  stage: test\n  script: test\n  needs: [deploy]\n",
    error: "test1 job: need deploy is not defined in current or prior stages",
  },
  {
    name: "needs duplicated",
    source: `${SPEC} 'duplicate needs'`,
    yaml: "build1:\n  stage: build\n  script: test\ntest1:\n  stage: test\n  script: test\n  needs: [build1, build1]\n",
    error: "test1 has the following needs duplicated: build1.",
  },
  {
    name: "dependencies not in needs",
    source: `${SPEC} 'needs and dependencies that are mismatching'`,
    yaml: "build1:\n  stage: build\n  script: test\nbuild2:\n  stage: build\n  script: test\ntest1:\n  stage: test\n  script: test\n  needs: [build1]\n  dependencies: [build2]\n",
    error: "jobs:test1 dependencies the build2 should be part of needs",
  },
  {
    name: "needs a string",
    source: `${SPEC} 'needs with a string type and dependency with an array type'`,
    yaml: "build1:\n  stage: build\n  script: test\ntest1:\n  stage: test\n  script: test\n  needs: build1\n",
    error: "jobs:test1:needs config can only be a hash or an array",
  },
  {
    name: "undefined dependency",
    source: `${SPEC} 'undefined dependency'`,
    yaml: "test1:\n  stage: test\n  script: test\n  dependencies: [undefined]\n",
    error: "test1 job: undefined dependency: undefined",
  },
  {
    name: "dependency on a later stage",
    source: `${SPEC} 'dependencies to deploy'`,
    yaml: "deploy:\n  stage: deploy\n  script: test\ntest1:\n  stage: test\n  script: test\n  dependencies: [deploy]\n",
    error: "test1 job: dependency deploy is not defined in current or prior stages",
  },
  {
    name: "delayed with rules and start_in",
    source: `${SPEC} 'used with job-level when:delayed'`,
    yaml: "var_default:\n  stage: build\n  script: test\n  when: delayed\n  start_in: 10 minutes\n  rules:\n    - if: $VAR == null\n",
    error: "jobs:var_default config key may not be used with `rules`: start_in",
  },
  {
    name: "unknown rules:when",
    source: "lib/gitlab/ci/config/entry/rules/rule.rb (AllowedValuesValidator)",
    yaml: "rspec:\n  script: test\n  rules:\n    - if: $A\n      when: sometimes\n",
    error: "jobs:rspec:rules:rule when unknown value: sometimes",
  },
  {
    name: "workflow:variables",
    source: `${SPEC} 'disallowed workflow:variables'`,
    yaml: 'workflow:\n  rules:\n    - if: $VAR == "value"\n  variables:\n    UNSUPPORTED: "unparsed"\nhello:\n  script: echo\n',
    error: "workflow config contains unknown keys: variables",
  },
  {
    name: "circular needs: self-dependency",
    source: `${SPEC} 'a job has a self-dependency'`,
    yaml: "job_0:\n  stage: test\n  script: build\njob:\n  stage: test\n  script: build\n  needs: [job_0, job]\n",
    error: "The pipeline has circular dependencies: self-dependency: job",
  },
  {
    name: "!reference to nothing",
    source: "lib/gitlab/ci/config/yaml/tags/reference.rb",
    yaml: "test:\n  script:\n    - !reference [.missing, script]\n",
    error: '!reference [".missing", "script"] could not be found',
  },
  {
    name: "include:local missing",
    source: "lib/gitlab/ci/config/external/file/local.rb",
    yaml: "include: nope.yml\nrspec:\n  script: t\n",
    error: "Local file `nope.yml` does not exist!",
  },
  {
    name: "not a hash",
    source: `${SPEC} 'object is invalid'`,
    yaml: "invalid_yaml\n",
    error: "Invalid configuration format",
  },
  {
    name: "empty",
    source: `${SPEC} 'YAML content is empty'`,
    yaml: "",
    error: "Please provide content of .gitlab-ci.yml",
  },
];
