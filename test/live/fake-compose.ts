// A compose client that runs nothing: it records each command (up, run, exec with its argv and the plan's env)
// and plays the containers' part against a GitLab simulator the way the real programs would talk to GitLab —
// gitlab-rails runner stores root's token (what the Rails script writes into GitLab's database), the
// agentk-install one-shot makes agentk's first call with the token from the manifest, and gitlab-runner register
// and verify call POST /api/v4/runners/verify and keep a config.toml per runner container.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as tomlStringify } from "smol-toml";
import { parseAllDocuments } from "yaml";
import type { ComposeClient, ComposeServiceState } from "../../src/live/compose-client.ts";
import type { GitLabSimulator } from "../../src/sim/gitlab/index.ts";

export interface RecordedCommand {
  kind: "up" | "run" | "exec" | "start";
  service?: string;
  argv?: string[];
  profile?: string;
  env: Record<string, string>;
}

export class FakeCompose implements ComposeClient {
  readonly implementation = "docker-compose-v1" as const;
  readonly describe = "a fake compose client (records commands; nothing runs)";
  readonly commands: RecordedCommand[] = [];
  /** /etc/gitlab-runner/config.toml per runner service, as gitlab-runner register leaves it. */
  readonly runnerConfigs = new Map<
    string,
    { name: string; url: string; token: string; executor: string }[]
  >();
  running: string[] = [];

  constructor(
    private readonly sim: GitLabSimulator,
    private readonly stateDir: string,
  ) {}

  async up(plan: { services: string[]; env: Record<string, string> }): Promise<void> {
    this.commands.push({ kind: "up", env: plan.env });
    this.running = plan.services;
  }

  async run(plan: { env: Record<string, string> }, service: string, profile: string) {
    this.commands.push({ kind: "run", service, profile, env: plan.env });
    if (service === "agentk-install") {
      const docs = parseAllDocuments(readFileSync(join(this.stateDir, "manifests", "agentk.yaml"), "utf8"));
      const secret = docs.map((d) => d.toJS()).find((o) => o.kind === "Secret");
      const res = await fetch(`${this.sim.url}/api/v4/internal/kubernetes/agent_info`, {
        headers: { authorization: `Bearer ${secret.stringData.token}` },
      });
      return { status: res.ok ? 0 : 1, output: `agent_info answered ${res.status}` };
    }
    return { status: 0, output: "" };
  }

  async start(plan: { env: Record<string, string> }, profile: string, services: string[]) {
    for (const service of services) this.commands.push({ kind: "start", service, profile, env: plan.env });
    this.running = [...new Set([...this.running, ...services])];
  }

  async exec(plan: { env?: Record<string, string> }, service: string, argv: string[]) {
    this.commands.push({ kind: "exec", service, argv, env: plan.env ?? {} });
    const ok = (stdout = "") => ({ status: 0, stdout, stderr: "" });
    if (service === "gitlab" && argv[0] === "gitlab-rails" && argv[1] === "runner") {
      const token = /set_token\('([^']+)'\)/.exec(argv[2] ?? "")?.[1];
      if (!token) return { status: 1, stdout: "", stderr: "no set_token in the script" };
      this.sim.store.tokens.set(token, this.sim.root.id);
      return ok("wsparity: token saved\n");
    }
    const runners = this.runnerConfigs.get(service);
    if (argv[0] === "cat")
      return runners
        ? ok(tomlStringify({ concurrent: 1, runners }))
        : { status: 1, stdout: "", stderr: "cat: /etc/gitlab-runner/config.toml: No such file or directory" };
    if (argv[0] === "gitlab-runner" && argv[1] === "register") {
      const flag = (name: string) => argv[argv.indexOf(name) + 1]!;
      const verified = await this.verify(flag("--token"));
      if (!verified) return { status: 1, stdout: "", stderr: "Failed to verify the runner." };
      this.runnerConfigs.set(service, [
        ...(runners ?? []),
        { name: flag("--name"), url: flag("--url"), token: flag("--token"), executor: flag("--executor") },
      ]);
      return ok("Runner registered successfully.");
    }
    if (argv[0] === "gitlab-runner" && argv[1] === "verify") {
      for (const r of runners ?? [])
        if (!(await this.verify(r.token))) return { status: 1, stdout: "", stderr: `${r.name} is not valid` };
      return ok();
    }
    return { status: 127, stdout: "", stderr: `the fake has no ${argv.join(" ")} in ${service}` };
  }

  async ps(): Promise<ComposeServiceState[]> {
    return this.running.map((service) => ({
      service,
      state: "running",
      ...(service === "gitlab" ? { health: "healthy" } : {}),
    }));
  }

  async down(): Promise<void> {
    this.running = [];
  }

  /** What gitlab-runner register and verify send: POST /api/v4/runners/verify with the token. */
  private async verify(token: string): Promise<boolean> {
    const res = await fetch(`${this.sim.url}/api/v4/runners/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    return res.ok;
  }

  execs(service?: string): string[] {
    return this.commands
      .filter((c) => c.kind === "exec" && (!service || c.service === service))
      .map((c) => `${c.service}: ${c.argv!.slice(0, 2).join(" ")}`);
  }
}
