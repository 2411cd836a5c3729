// Reading the job payload GitLab hands out with POST /jobs/request (201). A payload the runner cannot use
// is not dropped: when it still names the job (id and token) the runner fails that job as a system
// failure with a trace line saying why, as gitlab-runner does; otherwise GitLab's stuck-job timeout is all
// that is left, and the runner says so.

import { Ajv } from "ajv";
import type { JobPayload } from "./api-client.ts";

const stringList = { type: "array", items: { type: "string" } };
// GitLab's entities send null for an image's unset fields.
const optionalStringList = { type: ["array", "null"], items: { type: "string" } };
const variable = {
  type: "object",
  required: ["key", "value"],
  properties: { key: { type: "string" }, value: { type: "string" } },
};
const image = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string" },
    alias: { type: ["string", "null"] },
    entrypoint: optionalStringList,
    command: optionalStringList,
    variables: { type: ["array", "null"], items: variable },
  },
};

/** The fields this runner reads, with the types it relies on (GitLab sends more; extra fields are fine). */
const PAYLOAD_SCHEMA = {
  type: "object",
  required: ["id", "token", "job_info", "git_info", "runner_info", "variables", "steps"],
  properties: {
    id: { type: "integer", minimum: 1 },
    token: { type: "string", minLength: 1 },
    job_info: {
      type: "object",
      required: ["name", "project_id", "project_name"],
      properties: {
        name: { type: "string" },
        project_id: { type: "integer" },
        // A directory name under the build directory: never a path that climbs out of it.
        project_name: { type: "string", pattern: "^(?!\\.{1,2}$)[^/\\u0000]+$" },
      },
    },
    git_info: {
      type: "object",
      required: ["repo_url", "sha"],
      properties: {
        repo_url: { type: "string" },
        ref: { type: "string" },
        sha: { type: "string" },
        refspecs: stringList,
        depth: { type: "integer", minimum: 0 },
      },
    },
    runner_info: {
      type: "object",
      required: ["timeout"],
      properties: { timeout: { type: "number", exclusiveMinimum: 0 } },
    },
    variables: { type: "array", items: variable },
    steps: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "script"],
        properties: { name: { type: "string" }, script: stringList, timeout: { type: "number" } },
      },
    },
    image: { anyOf: [{ type: "null" }, image] },
    services: { anyOf: [{ type: "null" }, { type: "array", items: image }] },
    cache: {
      anyOf: [
        { type: "null" },
        {
          type: "array",
          items: {
            type: "object",
            required: ["key", "paths"],
            properties: { key: { type: "string" }, paths: stringList, policy: { type: "string" } },
          },
        },
      ],
    },
  },
};

const validate = new Ajv({ allErrors: false }).compile(PAYLOAD_SCHEMA);

export type ParsedPayload =
  | { job: JobPayload }
  | {
      /** Why the runner cannot run it, for the trace and the log. */
      problem: string;
      /** Present when the payload still names the job, so its failure can be reported. */
      id?: number;
      token?: string;
    };

export function parseJobPayload(text: string): ParsedPayload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `the job payload is not JSON (${(err as Error).message})` };
  }
  if (validate(value)) return { job: value as unknown as JobPayload };
  const error = validate.errors?.[0];
  const where = error?.instancePath ? error.instancePath.slice(1).replace(/\//g, ".") : "the payload";
  const problem = `the job payload cannot be used: ${where} ${error?.message ?? "is invalid"}`;
  const named = value as { id?: unknown; token?: unknown } | null;
  const id =
    typeof named?.id === "number" && Number.isInteger(named.id) && named.id > 0 ? named.id : undefined;
  const token = typeof named?.token === "string" && named.token ? named.token : undefined;
  return id !== undefined && token !== undefined ? { problem, id, token } : { problem };
}
