// The kubernetes executor's job pod, generated from arbitrary jobs: valid names and labels, every service
// a container with its variables, aliases as hostAliases, and resource overwrites within the runner's limits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dnsLabel } from "../../src/ci/pipeline.ts";
import type { JobPayload } from "../../src/runner/api-client.ts";
import { jobPod, OverwriteNotAllowed, type PodSettings } from "../../src/runner/executors/kubernetes-pod.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const settings: PodSettings = {
  namespace: "ci",
  runnerName: "Runner One",
  defaultImage: "wsparity/base:amd64",
  helperImage: "wsparity/base:amd64",
  nodeSelector: { "kubernetes.io/arch": "amd64" },
  overwriteMaxAllowed: { memory_limit: "8Gi", service_cpu_limit: "2" },
};

function job(services: JobPayload["services"], image = "node:20"): JobPayload {
  return {
    id: 42,
    token: "t",
    job_info: { name: "workspace", stage: "workspace", project_id: 7, project_name: "p" },
    git_info: { repo_url: "", ref: "main", sha: "0".repeat(40), ref_type: "branch", refspecs: [], depth: 0 },
    runner_info: { timeout: 3600 },
    variables: [],
    steps: [],
    image: { name: image },
    services,
    cache: null,
  };
}

const serviceArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 30 }),
  alias: fc.option(
    fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { maxLength: 3 }).map((a) => a.join(",")),
    {
      nil: undefined,
    },
  ),
  variables: fc.array(
    fc.record({
      key: fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/),
      value: fc.string({ maxLength: 20 }),
      raw: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
});

describe("the kubernetes executor's job pod", () => {
  it("has build, helper and svc-N containers on one build volume, valid labels and every alias on 127.0.0.1 (property)", () => {
    fc.assert(
      fc.property(
        fc.array(serviceArb, { maxLength: 5 }),
        fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), fc.string()),
        (services, env) => {
          const { pod } = jobPod(job(services), env, settings, "runner-x-job-42-abc");
          const containers = pod.spec!.containers;
          expect(containers.map((c) => c.name)).toEqual([
            "build",
            "helper",
            ...services.map((_, i) => `svc-${i}`),
          ]);
          for (const c of containers) {
            expect(c.name).toMatch(DNS_LABEL);
            expect(c.volumeMounts).toEqual([{ name: "repo", mountPath: "/builds" }]);
          }
          for (const value of Object.values(pod.metadata!.labels!))
            expect(value).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
          const aliases = services.flatMap((s) => (s.alias ?? "").split(",").filter(Boolean));
          const hosts = pod.spec!.hostAliases?.[0]?.hostnames ?? [];
          expect(new Set(hosts)).toEqual(new Set(aliases));
          for (const [i, s] of services.entries()) {
            const vars = new Map(containers[i + 2]!.env!.map((e) => [e.name, e.value]));
            const last = new Map(s.variables?.map((v) => [v.key, v]) ?? []);
            for (const [key, v] of last) if (v.raw) expect(vars.get(key)).toBe(v.value);
          }
          expect(pod.spec!.restartPolicy).toBe("Never");
        },
      ),
    );
  });

  it("applies overwrites within the maximum, ignores those without one, and refuses those above it", () => {
    const within = jobPod(
      job([{ name: "db" }]),
      { KUBERNETES_MEMORY_LIMIT: "1Gi", KUBERNETES_CPU_LIMIT: "2", KUBERNETES_SERVICE_CPU_LIMIT: "500m" },
      settings,
      "p",
    );
    expect(within.pod.spec!.containers[0]!.resources).toEqual({ limits: { memory: "1Gi" } });
    expect(within.pod.spec!.containers[2]!.resources).toEqual({ limits: { cpu: "500m" } });
    expect(within.notes).toEqual([
      "KUBERNETES_CPU_LIMIT=2 ignored: the runner sets no cpu_limit_overwrite_max_allowed",
    ]);
    expect(() => jobPod(job([]), { KUBERNETES_MEMORY_LIMIT: "9Gi" }, settings, "p")).toThrow(
      OverwriteNotAllowed,
    );
  });

  it("dnsLabel (the pod's names and label values) always gives a DNS label (property)", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(dnsLabel(text)).toMatch(DNS_LABEL);
      }),
    );
  });
});
