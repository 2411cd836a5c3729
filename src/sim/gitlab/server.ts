// The GitLab simulator: REST API v4, the runner job API and git's dumb HTTP protocol on one HTTP server,
// state in memory. `@gitbeaker/rest`, curl, git and runners use it as they would use GitLab.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { registerArtifactsApi } from "./artifacts-api.ts";
import { registerCiApi } from "./ci-api.ts";
import { ApiError } from "./errors.ts";
import { FeatureFlags, registerFeaturesApi } from "./features-api.ts";
import { SmartHttp } from "./git-smart-http.ts";
import { registerGroupsApi } from "./groups-api.ts";
import { registerHealthChecks } from "./health-checks.ts";
import { type RequestContext, Router } from "./http.ts";
import { registerAgentsApi } from "./remote-development/agents-api.ts";
import { registerGraphqlApi } from "./remote-development/graphql-api.ts";
import { RemoteDevelopment, type RemoteDevelopmentOptions } from "./remote-development/model.ts";
import { registerRestApi } from "./rest-api.ts";
import { type RunnerApiOptions, registerRunnerApi } from "./runner-api.ts";
import { Store, type User } from "./store.ts";

export interface GitLabSimulatorOptions extends Partial<RunnerApiOptions> {
  host?: string;
  port?: number;
  /**
   * The URL the instance gives out (web_url, http_url_to_repo, the job's repo_url and CI_SERVER_URL, …), as
   * GitLab's `external_url`: e.g. http://gitlab-sim:8929 inside compose while it listens on 0.0.0.0.
   * Without it, the listen address.
   */
  externalUrl?: string;
  /** Licence, reconcile intervals and workspaces proxy address of the remote development feature. */
  remoteDevelopment?: Partial<RemoteDevelopmentOptions>;
}

export class GitLabSimulator {
  readonly store = new Store();
  /** The instance's feature flags (Features API); root is its administrator. */
  readonly features = new FeatureFlags();
  readonly remoteDevelopment: RemoteDevelopment;
  readonly root: User;
  /** A personal access token of the root user, with the api scope. */
  readonly rootToken: string;
  private server: Server | undefined;
  private readonly smartHttp = new SmartHttp();
  private baseUrl = "";
  private listenUrl = "";

  constructor(private readonly options: GitLabSimulatorOptions = {}) {
    this.store.setMaxListeners(0);
    this.root = this.store.createUser("root");
    this.rootToken = this.store.createToken(this.root.id);
    this.features.admins.add(this.root.id);
    this.remoteDevelopment = new RemoteDevelopment(this.store, {
      licensed: true,
      fullReconciliationIntervalSeconds: 3600,
      partialReconciliationIntervalSeconds: 10,
      workspacesProxy: { scheme: "https", port: undefined },
      ...options.remoteDevelopment,
    });
  }

  get url(): string {
    if (!this.server) throw new Error("the GitLab simulator is not started");
    return this.baseUrl;
  }

  /** Where the server listens (the actual port when started on port 0), whatever URL it gives out. */
  get listening(): string {
    if (!this.server) throw new Error("the GitLab simulator is not started");
    return this.listenUrl;
  }

  async start(): Promise<this> {
    const router = new Router();
    registerRestApi(router, this.store);
    registerArtifactsApi(router, this.store);
    registerFeaturesApi(router, this.store, this.features);
    registerCiApi(router, this.store);
    registerRunnerApi(router, this.store, {
      longPollMs: this.options.longPollMs ?? 50_000,
      traceUpdateIntervalSeconds: this.options.traceUpdateIntervalSeconds ?? 3,
    });
    registerGroupsApi(router, this.store);
    registerAgentsApi(router, this.remoteDevelopment, this.store);
    registerGraphqlApi(router, this.remoteDevelopment, this.store);
    registerHealthChecks(router);
    this.serveGit(router);
    const server = createServer((req, res) => void router.handle(req, res, this.baseUrl));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.listenUrl = `http://${host}:${address.port}`;
    // Listening on every address: give out loopback rather than an address no client can connect to.
    const reachable = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "[::1]" : host;
    this.baseUrl = this.options.externalUrl?.replace(/\/+$/, "") ?? `http://${reachable}:${address.port}`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.smartHttp.close();
  }

  /**
   * git over HTTP for any project by its full path (`/group/subgroup/project.git/...`), authenticated with a
   * job token or a personal access token: the smart protocol (upload-pack; shallow fetches) when the client
   * asks for it, the dumb protocol otherwise.
   */
  private serveGit(router: Router): void {
    const repository = (ctx: RequestContext) => {
      const auth = ctx.req.headers.authorization ?? "";
      const [, password = ""] = Buffer.from(auth.replace(/^Basic\s+/i, ""), "base64")
        .toString("utf8")
        .split(/:(.*)/s);
      const allowed =
        this.store.tokens.has(password) ||
        [...this.store.jobs.values()].some(
          (j) => j.token === password && (j.status === "running" || j.status === "canceling"),
        );
      if (!allowed)
        throw new ApiError(
          401,
          {},
          { "WWW-Authenticate": 'Basic realm="GitLab"' },
          "HTTP Basic: Access denied\n",
        );
      // GitLab finds paths case-insensitively (routes.path is unique regardless of case).
      const fullPath = ctx.params.project!.toLowerCase();
      const project = [...this.store.projects.values()].find((p) => p.fullPath.toLowerCase() === fullPath);
      return project ? { name: `${project.id}.git`, repo: project.repo } : undefined;
    };
    // What Workhorse answers for a project the user cannot see: the same as for one that does not exist.
    const notFound = { status: 404, raw: "The project you were looking for could not be found.\n" };
    router.on("GET", "/:project*\\.git/:file*", async (ctx) => {
      const found = repository(ctx);
      if (!found) return notFound;
      if (ctx.params.file === "info/refs" && ctx.url.searchParams.get("service") === "git-upload-pack") {
        return {
          status: 200,
          raw: await this.smartHttp.advertise(found.name, found.repo),
          contentType: "application/x-git-upload-pack-advertisement",
          headers: { "Cache-Control": "no-cache" },
        };
      }
      const file = found.repo.dumbHttp(ctx.params.file!);
      if (!file) return { status: 404, raw: "Not Found" };
      return { status: 200, raw: file.body, contentType: file.contentType };
    });
    router.on("POST", "/:project*\\.git/git-upload-pack", async (ctx) => {
      const found = repository(ctx);
      if (!found) return notFound;
      const gzipped = ctx.req.headers["content-encoding"] === "gzip";
      return {
        status: 200,
        raw: await this.smartHttp.serve(found.name, found.repo, ctx.rawBody, gzipped),
        contentType: "application/x-git-upload-pack-result",
        headers: { "Cache-Control": "no-cache" },
      };
    });
  }
}
