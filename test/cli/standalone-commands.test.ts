// `sim kubernetes` and `workspaces-proxy` refuse bad options before starting anything: exit 2 naming the option.
// Their runs are in test/workspaces-proxy/separate-processes.test.ts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { mainInProcess } from "../support/cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsparity-standalone-"));
  await writeFile(join(dir, "empty-kubeconfig"), "apiVersion: v1\nkind: Config\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const proxy = (...args: string[]) =>
  mainInProcess(
    "workspaces-proxy",
    "--dns-zone",
    "workspaces.localtest",
    "--gitlab-url",
    "http://127.0.0.1:9",
    ...args,
  );

it.each([
  [["--kubelet", "vm"], /--kubelet must be process or docker, got "vm"/],
  [["--listen", "127.0.0.1:70000"], /--listen 127\.0\.0\.1:70000: expected HOST:PORT/],
  [
    ["--server-url", "http://kubernetes-sim:6443"],
    /--server-url http:\/\/kubernetes-sim:6443: expected https/,
  ],
  [["--server-url", "https://kubernetes_sim"], /--server-url .*neither a host name nor an IP address/],
])("sim kubernetes %j exits 2 naming the option", async (args, message) => {
  const r = await mainInProcess("sim", "kubernetes", ...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
});

it("workspaces-proxy exits 2 naming each option it misses or cannot use", async () => {
  const noZone = await mainInProcess("workspaces-proxy", "--gitlab-url", "http://127.0.0.1:9");
  expect(noZone.code).toBe(2);
  expect(noZone.stderr).toMatch(/--dns-zone/);
  const noGitLab = await mainInProcess("workspaces-proxy", "--dns-zone", "workspaces.localtest");
  expect(noGitLab.code).toBe(2);
  expect(noGitLab.stderr).toMatch(/--gitlab-url/);
  for (const [r, message] of [
    [await proxy("--listen", "nowhere:port"), /--listen nowhere:port/],
    [await proxy("--dns-zone", "not a zone"), /--dns-zone not a zone: expected a DNS name/],
    [
      await proxy("--gitlab-url", "ftp://gitlab"),
      /--gitlab-url ftp:\/\/gitlab: expected an http or https URL/,
    ],
    [await proxy("--kubeconfig", join(dir, "absent")), /--kubeconfig .*absent: .*ENOENT/],
    [
      await proxy("--kubeconfig", join(dir, "empty-kubeconfig")),
      /--kubeconfig .*empty-kubeconfig: names no current cluster/,
    ],
  ] as const) {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  }
});
