// GitLab's global IDs (gid://gitlab/<Model>/<id>) as GraphQL arguments carry them, with graphql-ruby's
// messages for a value that is not one or names another model.

export class GlobalIdError extends Error {}

export function globalId(model: string, id: number): string {
  return `gid://gitlab/${model}/${id}`;
}

/** Models whose global IDs a type also takes: GitLab's GlobalIDType accepts subclasses of its model (a Group is a Namespace). */
const SUBCLASSES: Record<string, string[]> = {
  Namespace: ["Group", "Namespaces::UserNamespace", "Namespaces::ProjectNamespace"],
};

/** The numeric id of a global ID of `model` (or a subclass); throws GlobalIdError with GitLab's wording otherwise. */
export function parseGlobalId(value: unknown, model: string): number {
  if (typeof value !== "string") throw new GlobalIdError(`${JSON.stringify(value)} is not a valid Global ID`);
  const match = /^gid:\/\/gitlab\/([A-Za-z:]+)\/(\d+)$/.exec(value);
  if (!match) throw new GlobalIdError(`"${value}" is not a valid Global ID`);
  if (match[1] !== model && !SUBCLASSES[model]?.includes(match[1]!))
    throw new GlobalIdError(`"${value}" does not represent an instance of ${model}`);
  return Number(match[2]);
}
