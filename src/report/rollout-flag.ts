// `wsparity gate --apply-flag NAME --gitlab URL`: sets GitLab's feature flag to the value the policy gives
// the stage the report reaches, through GitLab's Features API (admin token), then reads it back.
import { UsageError } from "../util/errors.ts";
import type { FlagValue, RolloutRecord } from "./model.ts";
import type { Policy } from "./policy.ts";

interface FeatureJson {
  name: string;
  state: string;
  gates: { key: string; value: unknown }[];
}

export interface ApplyFlagOptions {
  gitlab: string;
  token: string;
  flag: string;
  /** Send the change; without it the request is only printed. */
  yes: boolean;
  log: (line: string) => void;
}

/** The flag value the policy gives the stage reached (its `flag`), or `flagBelowFirstStage`. */
export function flagValueFor(policy: Policy, stage: string | null): FlagValue {
  if (stage === null) return policy.flagBelowFirstStage;
  const value = policy.stages.find((s) => s.name === stage)?.flag;
  if (value === undefined)
    throw new UsageError(
      `the policy's stage "${stage}" has no flag value: add \`flag: true|false|<percent of actors>\` to it`,
    );
  return value;
}

/** What a flag's gates amount to: on or off for everyone, or a percentage of actors. */
export function flagValueOf(feature: FeatureJson | undefined): FlagValue {
  if (!feature) return false;
  const gate = (key: string) => feature.gates.find((g) => g.key === key)?.value;
  if (gate("boolean") === true) return true;
  const actors = gate("percentage_of_actors");
  return typeof actors === "number" && actors > 0 ? actors : false;
}

export function describeFlag(value: FlagValue): string {
  return value === true ? "on" : value === false ? "off" : `on for ${value}% of actors`;
}

/** The form body GitLab's POST /features/:name takes for a value. */
function requestBody(value: FlagValue): URLSearchParams {
  return typeof value === "number"
    ? new URLSearchParams({ value: String(value), key: "percentage_of_actors" })
    : new URLSearchParams({ value: String(value) });
}

async function api(options: ApplyFlagOptions, method: string, path: string, body?: URLSearchParams) {
  const url = `${options.gitlab.replace(/\/+$/, "")}/api/v4${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        "PRIVATE-TOKEN": options.token,
        ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(body ? { body } : {}),
    });
  } catch (err) {
    throw new UsageError(
      `cannot reach GitLab at ${options.gitlab}: ${(err as Error).message} (check --gitlab)`,
    );
  }
  const text = await res.text();
  if (res.status === 401)
    throw new UsageError(`${method} ${url}: 401 — GitLab does not accept the token (check --token)`);
  if (res.status === 403)
    throw new UsageError(
      `${method} ${url}: 403 — the Features API needs an administrator's token with the api scope; this token's user is not an administrator`,
    );
  if (!res.ok) throw new UsageError(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function readFlag(options: ApplyFlagOptions): Promise<FeatureJson | undefined> {
  const features = (await api(options, "GET", "/features")) as FeatureJson[];
  return features.find((f) => f.name === options.flag);
}

/**
 * Reads the flag, sets it to the stage's value when it differs (only with `yes`), reads it back, and
 * returns what it found and did. A flag GitLab has no definition for is refused: GitLab would create it,
 * and a typo would roll out nothing.
 */
export async function applyRolloutFlag(
  policy: Policy,
  stage: string | null,
  options: ApplyFlagOptions,
): Promise<RolloutRecord> {
  const desired = flagValueFor(policy, stage);
  const definitions = (await api(options, "GET", "/features/definitions")) as { name: string }[];
  if (!definitions.some((d) => d.name === options.flag)) {
    const near = definitions.map((d) => d.name).filter((n) => n.includes(options.flag.split("_")[0] ?? ""));
    throw new UsageError(
      `GitLab at ${options.gitlab} defines no feature flag "${options.flag}"${near.length > 0 ? ` (similar: ${near.slice(0, 5).join(", ")})` : ""}: check --apply-flag`,
    );
  }
  const before = flagValueOf(await readFlag(options));
  const record = {
    flag: options.flag,
    gitlab: options.gitlab,
    stage,
    desired,
    before,
    at: new Date().toISOString(),
  };
  const reached = stage ? `stage ${stage}` : "no stage";
  if (before === desired) {
    options.log(`flag ${options.flag} is already ${describeFlag(desired)} (${reached}): nothing to change`);
    return { ...record, after: before, applied: false };
  }
  // A percentage gate beside an enabled boolean gate changes nothing (Flipper): turn it off first.
  const bodies = [
    ...(typeof desired === "number" && before === true ? [requestBody(false)] : []),
    requestBody(desired),
  ];
  const base = `${options.gitlab.replace(/\/+$/, "")}/api/v4/features/${options.flag}`;
  const requests = bodies.map((body) => `POST ${base} ${body}`).join("\n  ");
  if (!options.yes) {
    options.log(
      `flag ${options.flag} is ${describeFlag(before)}; ${reached} wants ${describeFlag(desired)}. Dry run, would send:\n  ${requests}\npass --yes to send it`,
    );
    return { ...record, after: before, applied: false };
  }
  for (const body of bodies)
    await api(options, "POST", `/features/${encodeURIComponent(options.flag)}`, body);
  const after = flagValueOf(await readFlag(options));
  if (after !== desired)
    throw new UsageError(
      `set ${options.flag} to ${describeFlag(desired)}, but GitLab reads it back as ${describeFlag(after)}`,
    );
  options.log(
    `flag ${options.flag}: ${describeFlag(before)} → ${describeFlag(after)} (${reached}; ${requests})`,
  );
  return { ...record, after, applied: true };
}
