// GitLab's Features API (doc/api/features.md, lib/api/features.rb, Admin::SetFeatureFlagService):
// Flipper feature flags an administrator reads and sets. GET /features, GET /features/definitions,
// POST /features/:name (value true/false, or a percentage with key percentage_of_actors or
// percentage_of_time), DELETE /features/:name. Every call needs an administrator's token.

import { ApiError, forbidden, missing } from "./errors.ts";
import type { RequestContext, Router } from "./http.ts";
import { authenticate } from "./rest-api.ts";
import type { Store } from "./store.ts";

const API = "/api/v4";

/** A flag's YAML definition (config/feature_flags/<type>/<name>.yml), as GET /features/definitions shows it. */
export interface FeatureDefinition {
  name: string;
  introduced_by_url: string | null;
  rollout_issue_url: string | null;
  milestone: string | null;
  log_state_changes: boolean | null;
  type: string;
  group: string | null;
  default_enabled: boolean;
}

interface FlagState {
  boolean: boolean;
  percentageOfActors: number;
  percentageOfTime: number;
}

/** The flags the simulated instance defines and the gates set on them; users named in `admins` may change them. */
export class FeatureFlags {
  readonly definitions = new Map<string, FeatureDefinition>();
  readonly admins = new Set<number>();
  private readonly persisted = new Map<string, FlagState>();

  define(name: string, extra: Partial<FeatureDefinition> = {}): this {
    this.definitions.set(name, {
      name,
      introduced_by_url: null,
      rollout_issue_url: null,
      milestone: null,
      log_state_changes: null,
      type: "beta",
      group: "group::remote development",
      default_enabled: false,
      ...extra,
    });
    return this;
  }

  /** As lib/api/entities/feature.rb shows a flag: the boolean gate always, other gates when set. */
  json(name: string) {
    const s = this.persisted.get(name) ?? { boolean: false, percentageOfActors: 0, percentageOfTime: 0 };
    const gates: { key: string; value: boolean | number }[] = [{ key: "boolean", value: s.boolean }];
    if (s.percentageOfActors > 0) gates.push({ key: "percentage_of_actors", value: s.percentageOfActors });
    if (s.percentageOfTime > 0) gates.push({ key: "percentage_of_time", value: s.percentageOfTime });
    const state = s.boolean ? "on" : gates.length > 1 ? "conditional" : "off";
    return { name, state, gates, definition: this.definitions.get(name) ?? null };
  }

  list() {
    return [...this.persisted.keys()].map((name) => this.json(name));
  }

  /**
   * What Admin::SetFeatureFlagService does with a global value: "true"/"100" enable (Flipper clears the
   * other gates), "false"/"0" disable (clears them all), a number sets the percentage gate of `key`
   * (percentage_of_time when no key is given).
   */
  set(name: string, value: string, key: string | undefined): void {
    const numeric = /^\d+(\.\d+)?$/.test(value);
    if (["100", "100.0", "true"].includes(value)) {
      this.persisted.set(name, { boolean: true, percentageOfActors: 0, percentageOfTime: 0 });
      return;
    }
    if (["0", "0.0", "false"].includes(value)) {
      this.persisted.set(name, { boolean: false, percentageOfActors: 0, percentageOfTime: 0 });
      return;
    }
    const current = this.persisted.get(name) ?? {
      boolean: false,
      percentageOfActors: 0,
      percentageOfTime: 0,
    };
    if (key === "percentage_of_actors" || key === "percentage_of_time" || (key === undefined && numeric)) {
      if (!numeric) throw new ApiError(400, { message: "400 Bad request - Not a percentage" });
      const percentage = Number(value);
      if (percentage > 100)
        throw new ApiError(400, { message: `400 Bad request - value must be between 0 and 100` });
      this.persisted.set(
        name,
        key === "percentage_of_actors"
          ? { ...current, percentageOfActors: percentage }
          : { ...current, percentageOfTime: percentage },
      );
      return;
    }
    const msg = key
      ? `Cannot set '${name}' (${JSON.stringify(key)}) to ${JSON.stringify(value)}`
      : `Cannot set '${name}' to ${JSON.stringify(value)}`;
    throw new ApiError(400, { message: `400 Bad request - ${msg}` });
  }

  remove(name: string): void {
    this.persisted.delete(name);
  }
}

/** Grape reads `true` in a JSON body as the string "true", as a form body sends it. */
function valueParam(ctx: RequestContext): string {
  const value = ctx.input.value;
  if (value === undefined || value === null || value === "") throw missing("value");
  return String(value);
}

export function registerFeaturesApi(router: Router, store: Store, flags: FeatureFlags): void {
  const admin = (ctx: RequestContext) => {
    const user = authenticate(store, ctx);
    if (!flags.admins.has(user.id)) throw forbidden();
    return user;
  };
  router.on("GET", `${API}/features`, (ctx) => {
    admin(ctx);
    return { status: 200, body: flags.list() };
  });
  router.on("GET", `${API}/features/definitions`, (ctx) => {
    admin(ctx);
    return { status: 200, body: [...flags.definitions.values()] };
  });
  router.on("POST", `${API}/features/:name`, (ctx) => {
    admin(ctx);
    const name = ctx.params.name!;
    const key = typeof ctx.input.key === "string" && ctx.input.key !== "" ? ctx.input.key : undefined;
    for (const actor of ["feature_group", "user", "group", "namespace", "project", "repository"]) {
      if (key && ctx.input[actor] !== undefined)
        throw new ApiError(400, { error: `key, ${actor} are mutually exclusive` });
    }
    flags.set(name, valueParam(ctx), key);
    return { status: 201, body: flags.json(name) };
  });
  router.on("DELETE", `${API}/features/:name`, (ctx) => {
    admin(ctx);
    flags.remove(ctx.params.name!);
    return { status: 204 };
  });
}
