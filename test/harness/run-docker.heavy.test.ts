import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { reportSchemaErrors } from "../../src/report/validate.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "../containers/docker-available.ts";
import { describeUnless } from "../support/skip.ts";

const docker = await dockerForTests();
const out = mkdtempSync(join(tmpdir(), "wsparity-run-docker-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)(
  "wsparity run on the docker tier (through the CLI)",
  () => {
    it("runs both paths in real containers on amd64 and arm64 (Kubernetes path, CI docker and kubernetes executors), shows images and architectures, and leaves no container", () => {
      const r = spawnSync(
        process.execPath,
        [
          "bin/wsparity.js",
          "run",
          "scenarios/minimal.yaml",
          "--tier",
          "docker",
          "--executors",
          "docker,kubernetes",
          "--arch",
          "amd64,arm64",
          "--out",
          out,
        ],
        { encoding: "utf8", timeout: 600_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      expect(reportSchemaErrors(report)).toEqual([]);
      expect(report.tier).toBe("docker");
      expect(report.environment.imageMap.length).toBeGreaterThan(0);
      expect(
        report.cells.map(
          (c: { path: string; executor: string | null; arch: string }) => `${c.path}/${c.executor}/${c.arch}`,
        ),
      ).toEqual([
        "kubernetes/null/amd64",
        "kubernetes/null/arm64",
        "ci/docker/amd64",
        "ci/docker/arm64",
        "ci/kubernetes/amd64",
        "ci/kubernetes/arm64",
      ]);
      for (const cell of report.cells) {
        const status = (id: string) => cell.features.find((f: { id: string }) => f.id === id);
        expect(cell.status, cell.reason).toBe("passed");
        expect(status("container.image")).toMatchObject({
          status: "supported",
          evidence: expect.stringContaining(`wsparity/node:${cell.arch}`),
        });
        expect(status("editor.injected").status).toBe("supported");
        if (cell.arch === "arm64")
          expect(status("arch.arm64")).toMatchObject({
            status: "supported",
            evidence: expect.stringContaining("aarch64"),
          });
      }
      const left = execFileSync(
        "docker",
        [
          "ps",
          "-aq",
          "--filter",
          "label=io.wsparity.managed=true",
          "--filter",
          `label=io.wsparity.owner-pid`,
        ],
        {
          encoding: "utf8",
        },
      );
      const mine = left
        .split("\n")
        .filter(Boolean)
        .filter((id) => {
          const pid = execFileSync(
            "docker",
            ["inspect", "-f", '{{index .Config.Labels "io.wsparity.owner-pid"}}', id],
            { encoding: "utf8" },
          ).trim();
          return pid === String(r.pid);
        });
      expect(mine).toEqual([]);
    }, 700_000);
  },
);
