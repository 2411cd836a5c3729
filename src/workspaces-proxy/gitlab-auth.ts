// The proxy's only way to know a user: ask GitLab. A token GitLab issued (a personal access or OAuth
// token) is sent to GitLab's GraphQL API; the user may enter a workspace only if GitLab lists it among
// the user's own. Answers are kept for a few seconds so a page's many requests cost GitLab one question.

export interface AuthDecision {
  allowed: boolean;
  /** Why not, in words the user can act on. */
  reason?: string;
  username?: string;
}

const CACHE_MS = 5_000;

export class GitLabUserAuth {
  private readonly cache = new Map<string, { at: number; decision: AuthDecision }>();

  constructor(private readonly gitlabUrl: string) {}

  async decide(token: string, workspace: string): Promise<AuthDecision> {
    const key = `${token}\n${workspace}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.decision;
    const decision = await this.ask(token, workspace);
    this.cache.set(key, { at: Date.now(), decision });
    return decision;
  }

  private async ask(token: string, workspace: string): Promise<AuthDecision> {
    let res: Response;
    try {
      res = await fetch(new URL("/api/graphql", this.gitlabUrl), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ currentUser { username workspaces { nodes { name } } } }" }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      return { allowed: false, reason: `GitLab did not answer the proxy: ${(err as Error).message}` };
    }
    if (res.status === 401) return { allowed: false, reason: "GitLab does not know this token" };
    const body = (await res.json().catch(() => ({}))) as {
      data?: { currentUser?: { username: string; workspaces?: { nodes: { name: string }[] } } | null };
      errors?: { message: string }[];
    };
    const user = body.data?.currentUser;
    if (!user)
      return { allowed: false, reason: body.errors?.[0]?.message ?? "GitLab does not know this token" };
    if (!user.workspaces?.nodes.some((w) => w.name === workspace))
      return {
        allowed: false,
        reason: `workspace ${workspace} is not one of ${user.username}'s`,
        username: user.username,
      };
    return { allowed: true, username: user.username };
  }
}
