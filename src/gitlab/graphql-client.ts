// A client of GitLab's GraphQL API (POST /api/graphql with a personal access token), as the harness and the
// live tier's bootstrap use it: top-level errors (a malformed query, an unknown field, a refused token) throw;
// a mutation's payload `errors` (GitLab's business errors) come back in the data for the caller to read.

export class GraphqlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type GraphqlRequest = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function gitlabGraphql(gitlabUrl: string, token: string): GraphqlRequest {
  const endpoint = new URL("/api/graphql", gitlabUrl);
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let answer: { data?: T; errors?: { message: string }[] };
    try {
      answer = JSON.parse(text);
    } catch {
      throw new GraphqlError(
        `${endpoint} answered ${res.status}, not JSON: ${text.slice(0, 200)}`,
        res.status,
      );
    }
    if (answer.errors?.length || !answer.data)
      throw new GraphqlError(
        `GraphQL at ${endpoint} answered: ${answer.errors?.map((e) => e.message).join("; ") ?? `${res.status} without data`}`,
        res.status,
      );
    return answer.data;
  };
}
