// API errors as Kubernetes Status objects.

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const resourceName = (group: string, plural: string) => (group ? `${plural}.${group}` : plural);

export const notFound = (group: string, plural: string, name: string) =>
  new ApiError(404, "NotFound", `${resourceName(group, plural)} "${name}" not found`, {
    name,
    group,
    kind: plural,
  });

export const alreadyExists = (group: string, plural: string, name: string) =>
  new ApiError(409, "AlreadyExists", `${resourceName(group, plural)} "${name}" already exists`, {
    name,
    group,
    kind: plural,
  });

export const conflict = (group: string, plural: string, name: string, why: string) =>
  new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resourceName(group, plural)} "${name}": ${why}`,
    { name, group, kind: plural },
  );

export interface Cause {
  reason: string;
  field: string;
  message: string;
}

/** 422 Invalid as kube-apiserver words it: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: …`. */
export const invalid = (kind: string, group: string, name: string, causes: Cause[]) => {
  const qualified = group ? `${kind}.${group}` : kind;
  const each = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = each.length === 1 ? each[0] : `[${each.join(", ")}]`;
  return new ApiError(422, "Invalid", `${qualified} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes,
  });
};

export const badRequest = (message: string) => new ApiError(400, "BadRequest", message);

export const gone = (message: string) => new ApiError(410, "Expired", message);
