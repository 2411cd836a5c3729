// `wsparity agentk`: the agent for Kubernetes' remote_development module as a long-running process.
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import { Agentk } from "./agentk.ts";

export function registerAgentkCommands(program: Command): void {
  program
    .command("agentk")
    .description(
      "Run agentk's remote_development module: reconcile with GitLab (full at start, partial on the interval GitLab returns), server-side apply each workspace's config under field manager agentk, prune by inventory, report Deployments back. Runs until Ctrl-C.",
    )
    .requiredOption(
      "--gitlab-url <url>",
      "GitLab's URL (the simulator's, or one that forwards agentk's internal API)",
    )
    .option("--token-file <file>", "file holding the agent token (glagent-…); else $GITLAB_AGENT_TOKEN")
    .option("--kubeconfig <file>", "kubeconfig of the cluster; else $KUBECONFIG or ~/.kube/config")
    .action(async (opts: { gitlabUrl: string; tokenFile?: string; kubeconfig?: string }) => {
      const token = opts.tokenFile
        ? readFileSync(opts.tokenFile, "utf8").trim()
        : process.env.GITLAB_AGENT_TOKEN;
      if (!token)
        throw new UsageError("give the agent token with --token-file FILE or in GITLAB_AGENT_TOKEN");
      const kc = new KubeConfig();
      if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
      else kc.loadFromDefault();
      const log = (line: string) => process.stderr.write(`${line}\n`);
      let agentk: Agentk;
      try {
        agentk = await new Agentk({ gitlabUrl: opts.gitlabUrl, token, kc, log }).start();
      } catch (err) {
        throw new UsageError(`agentk could not connect: ${(err as Error).message}`);
      }
      await new Promise<void>((done) => {
        process.once("SIGINT", done);
        process.once("SIGTERM", done);
      });
      await agentk.stop();
    });
}
