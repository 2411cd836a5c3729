import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cell, report, sampleReport } from "../report/fixtures.ts";
import { mainInProcess } from "../support/cli.ts";

// README's commands, run as README gives them: every command of its CLI table has --help, and the
// sample invocations work on the project's own inputs. They run in-process (the same main() the bin
// calls; test/cli/npx.test.ts covers the bin link), since starting the CLI costs seconds each time.
// `npm start` (run --tier sim over the default scenarios) is covered by test/harness/run-sim.test.ts,
// which runs `run scenarios/minimal.yaml --tier sim` end to end; here its script starts the CLI through tsx.

const README = await readFile("README.md", "utf8");

/** The command words of each row of README's CLI table, e.g. "devfile to-k8s" from "`devfile to-k8s FILE`". */
function tableCommands(readme: string): string[][] {
  const lines = readme.slice(readme.indexOf("| command | what it does |")).split("\n");
  const rows = lines.slice(
    2,
    lines.findIndex((l) => !l.startsWith("|")),
  );
  const commands: string[][] = [];
  for (const row of rows) {
    const first = row.split(/(?<!\\)\|/)[1] ?? "";
    for (const code of first.matchAll(/`([^`]+)`/g)) {
      const words: string[] = [];
      for (const word of code[1]!.split(" ")) {
        if (!/^[a-z][a-z0-9-]*$/.test(word)) break;
        words.push(word);
      }
      commands.push(words);
    }
  }
  return commands;
}

const cli = mainInProcess;

/** README must still show the command this test runs, so the two cannot drift apart. */
function inReadme(command: string): string {
  expect(README, `README.md no longer shows \`${command}\``).toContain(command);
  return command;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsparity-readme-"));
  await writeFile(join(dir, "old.json"), JSON.stringify(sampleReport()));
  const worse = report([
    sampleReport().cells[0]!,
    cell("ci", "shell", "amd64", { "endpoint.http": "unsupported" }),
  ]);
  await writeFile(join(dir, "new.json"), JSON.stringify(worse));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

// The first call loads every command module (all of them for --help): slow on a loaded machine.
describe("README's CLI table", { timeout: 120_000 }, () => {
  const commands = tableCommands(README);

  it("lists the commands the CLI has", async () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    const help = await cli("--help");
    expect(inReadme("npx wsparity --help")).toBeTruthy();
    expect(help.code).toBe(0);
    for (const top of new Set(commands.map((c) => c[0]!))) expect(help.stdout).toContain(`  ${top}`);
  });

  it.each(tableCommands(README).map((c) => [c.join(" ")]))(
    "`%s --help` prints its usage",
    async (command) => {
      const r = await cli(...command.split(" "), "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: wsparity ${command}`);
    },
  );
});

describe("README's sample invocations", () => {
  it("devfile validate and to-ci on the reference devfile", async () => {
    inReadme("devfile validate FILE…");
    const validate = await cli(
      "devfile",
      "validate",
      "scenarios/devfiles/parity.devfile.yaml",
      "--rules",
      "gitlab",
    );
    expect(validate.stdout).toContain("valid under gitlab rules");
    expect(validate.code).toBe(0);
    inReadme("devfile to-ci FILE");
    const toCi = await cli("devfile", "to-ci", "scenarios/devfiles/parity.devfile.yaml");
    expect(toCi.code).toBe(0);
    expect(toCi.stdout).toMatch(/^workspace:/m);
  });

  it("images map shows which local image a reference runs as", async () => {
    inReadme("npx wsparity images map [REF…]");
    const r = await cli("images", "map", "registry.example.com/ubi9/nodejs-18", "--arch", "amd64");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("wsparity/node:amd64");
  });

  it("compare exits 0 for the same report and 1 when the new one is worse", async () => {
    inReadme("compare OLD.json NEW.json");
    expect((await cli("compare", join(dir, "old.json"), join(dir, "old.json"))).code).toBe(0);
    const worse = await cli("compare", join(dir, "old.json"), join(dir, "new.json"));
    expect(worse.code).toBe(1);
  });

  it("gate reads the sample policy and names the stage the report reaches", async () => {
    inReadme("gate REPORT.json --policy POLICY.yaml");
    inReadme("policies/rollout.yaml");
    const r = await cli("gate", join(dir, "old.json"), "--policy", "policies/rollout.yaml");
    expect(r.stdout).toContain("gate requires:");
    expect([0, 1]).toContain(r.code);
  });

  it("npm start's script starts the CLI through tsx (src/cli.ts as the entry module)", async () => {
    const pkg = JSON.parse(await readFile("package.json", "utf8"));
    expect(inReadme("npm ci && npm start")).toBeTruthy();
    expect(pkg.scripts.start).toBe("tsx src/cli.ts run --tier sim");
    const r = spawnSync("npm", ["start", "--silent", "--", "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toContain("Usage: wsparity run");
    expect(r.status).toBe(0);
  });
});
