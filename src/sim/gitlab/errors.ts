// Errors in the shapes GitLab's API answers with: {"message": "..."} for most 4xx, {"error": "..."} for
// parameter validation (Grape), {"message": {"base": [...]}} for a pipeline GitLab cannot create.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
    /** A plain-text answer instead of the JSON body (GitLab's Rack middleware answers this way). */
    readonly raw?: string,
  ) {
    super(typeof body.message === "string" ? body.message : JSON.stringify(body));
  }
}

export const notFound = (what: string) =>
  new ApiError(404, { message: what ? `404 ${what} Not Found` : "404 Not Found" });
export const unauthorized = () => new ApiError(401, { message: "401 Unauthorized" });
export const forbidden = () => new ApiError(403, { message: "403 Forbidden" });
export const badRequest = (error: string) => new ApiError(400, { error });
export const missing = (param: string) => badRequest(`${param} is missing`);
