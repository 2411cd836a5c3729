import { Gitlab } from "@gitbeaker/rest";
import { WorkspaceLauncher } from "../../ci/launcher.ts";
import { gitlabGraphql } from "../../gitlab/graphql-client.ts";
import type { Arch, Executor } from "../../report/model.ts";
import type { TierSettings } from "../../tier/settings.ts";
import { TunnelAdminClient } from "../../tunnel/admin-client.ts";
import type { TierSetup } from "../run.ts";
import { CiPathProvisioner } from "./ci-path.ts";
import { KubernetesPathProvisioner } from "./kubernetes-path.ts";

/**
 * The harness for a tier described by its settings: the Kubernetes path through GitLab's GraphQL API and the
 * workspace URLs it gives, the CI path through GitLab's REST API, the tunnel's admin API and its URLs. Nothing
 * here knows whether GitLab is the simulator or real.
 */
export async function tierFromSettings(
  settings: TierSettings,
  extra: {
    imageFor?: (reference: string, arch: Arch) => string;
    environment(): Record<string, unknown>;
    close(): Promise<void>;
    log: (line: string) => void;
  },
): Promise<TierSetup> {
  const api = new Gitlab({ host: settings.gitlab.url, token: settings.gitlab.token });
  const project = await api.Projects.show(settings.gitlab.project);
  const projectId = project.id as number;
  const graphql = gitlabGraphql(settings.gitlab.url, settings.gitlab.token);
  const kubernetes = new Map(
    settings.kubernetes.agents.map((agent) => [
      agent.arch,
      new KubernetesPathProvisioner({
        api,
        graphql,
        userToken: settings.gitlab.token,
        projectId,
        agent,
        ...(extra.imageFor ? { imageFor: extra.imageFor } : {}),
        log: extra.log,
      }),
    ]),
  );
  const tunnel = settings.ci.tunnel;
  const ciPath =
    tunnel &&
    new CiPathProvisioner(
      api,
      projectId,
      new WorkspaceLauncher(api, projectId),
      { userUrl: tunnel.url, domain: settings.ci.tunnelDomain },
      new TunnelAdminClient({ url: tunnel.url, adminToken: tunnel.adminToken }),
      extra.imageFor,
      extra.log,
      (executor: Executor, arch: Arch) =>
        settings.ci.runners.find((r) => r.executor === executor && r.arch === arch)?.agentUrl ??
        tunnel.agentUrl,
    );
  return {
    tier: settings.tier,
    provisioner: (path, arch) => (path === "kubernetes" ? kubernetes.get(arch)! : ciPath!),
    cannotRun: (path, executor, arch) => {
      if (path === "kubernetes")
        return kubernetes.has(arch)
          ? undefined
          : `no cluster agent for ${arch} nodes in the ${settings.tier} tier's settings`;
      if (!ciPath)
        return `the ${settings.tier} tier's settings name no tunnel (ci.tunnel), so CI jobs have none to dial`;
      return settings.ci.runners.some((r) => r.executor === executor && r.arch === arch)
        ? undefined
        : `no ${executor} runner for ${arch} on the ${settings.tier} tier`;
    },
    environment: extra.environment,
    close: extra.close,
  };
}
