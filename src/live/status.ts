// `wsparity live status`: each compose service's state and health, then — from the settings and state files the
// bootstrap wrote — each runner's connection (GET /runners/:id: status, contacted_at) and the agent's (the
// agent token's last_used_at), as GitLab reports them.
import { existsSync, readFileSync } from "node:fs";
import { readTierSettings } from "../tier/settings.ts";
import { type BootstrapState, stateFileFor } from "./bootstrap.ts";
import type { ComposeClient } from "./compose-client.ts";
import type { ComposeUpPlan } from "./compose-plan.ts";

export interface LiveStatusOptions {
  compose: ComposeClient;
  plan: Pick<ComposeUpPlan, "file" | "projectName">;
  settingsFile: string;
  out(line: string): void;
}

export async function liveStatus(opts: LiveStatusOptions): Promise<void> {
  const { out } = opts;
  const states = await opts.compose.ps(opts.plan);
  if (states.length === 0) out(`services: no containers of compose project ${opts.plan.projectName}`);
  else {
    out("services:");
    for (const s of states) out(`  ${s.service.padEnd(20)} ${s.state}${s.health ? ` (${s.health})` : ""}`);
  }

  if (!existsSync(opts.settingsFile)) {
    out(
      `connections: no settings at ${opts.settingsFile}; wsparity live up writes it once the bootstrap has run (or give --settings)`,
    );
    return;
  }
  const settings = readTierSettings(opts.settingsFile);
  const stateFile = stateFileFor(opts.settingsFile);
  const state: BootstrapState = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : {};
  const base = settings.gitlab.url.replace(/\/+$/, "");
  const get = async <T>(path: string): Promise<{ status: number; body?: T }> => {
    const res = await fetch(`${base}/api/v4${path}`, {
      headers: { "private-token": settings.gitlab.token },
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, ...(res.ok ? { body: (await res.json()) as T } : {}) };
  };

  out(`connections, as GitLab at ${base} reports them (${opts.settingsFile}):`);
  try {
    await get("/version");
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    out(`  GitLab does not answer (${why}): is the gitlab service up? (see services above)`);
    return;
  }

  const runners = Object.entries(state.runners ?? {});
  if (runners.length === 0) out(`  runners: none in ${stateFile}; wsparity live up creates them`);
  for (const [executor, runner] of runners) {
    const r = await get<{ status: string; contacted_at: string | null }>(`/runners/${runner.id}`);
    if (!r.body) {
      out(`  runner ${executor} (id ${runner.id}): GET /runners/${runner.id} answered ${r.status}`);
      continue;
    }
    const contact = r.body.contacted_at ? `last contact ${r.body.contacted_at}` : "never contacted GitLab";
    out(`  runner ${executor} (id ${runner.id}): ${r.body.status}, ${contact}`);
  }

  const agent = state.agentToken;
  if (!agent) {
    out(`  agent: no agent token in ${stateFile}; wsparity live up creates one`);
    return;
  }
  const project = await get<{ id: number }>(`/projects/${encodeURIComponent(settings.gitlab.project)}`);
  if (!project.body) {
    out(`  agent: project ${settings.gitlab.project} answered ${project.status}`);
    return;
  }
  const tokens = await get<{ id: number; status: string; last_used_at: string | null }[]>(
    `/projects/${project.body.id}/cluster_agents/${agent.agentId}/tokens`,
  );
  const token = tokens.body?.find((t) => t.id === agent.tokenId);
  if (!token)
    out(
      `  agent ${agent.agentId}: its token ${agent.tokenId} is not among the agent's tokens (${tokens.status}); revoked? live up makes a new one`,
    );
  else if (!token.last_used_at)
    out(
      `  agent ${agent.agentId}: token ${agent.tokenId} ${token.status}, never used: agentk has not connected`,
    );
  else
    out(
      `  agent ${agent.agentId}: token ${agent.tokenId} ${token.status}, agentk last seen ${token.last_used_at}`,
    );
}
