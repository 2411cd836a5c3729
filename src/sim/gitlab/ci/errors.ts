// The error a CI configuration fails with: GitLab reports the first one (Gitlab::Ci::YamlProcessor
// returns `errors.first` to pipeline creation; the lint API lists them in the same order).

export class CiConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors[0] ?? "Invalid configuration format");
  }
}

export type Hash = Record<string, unknown>;

export const isHash = (v: unknown): v is Hash => typeof v === "object" && v !== null && !Array.isArray(v);
