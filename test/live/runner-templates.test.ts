import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";

const DIR = "runners/live";
// Every toml key gitlab-runner reads, from its common/config.go (the file names its commit).
const KEYS = JSON.parse(readFileSync("test/fixtures/gitlab-runner/config-keys.json", "utf8")) as Record<
  string,
  string[]
>;
/** Tables whose own keys are free-form (maps) or whose entries are checked by shape. */
const MAPS = new Set(["runners.kubernetes.node_selector"]);
const HOST_ALIAS_KEYS = ["ip", "hostnames"];

function unknownKeys(table: Record<string, unknown>, path: string): string[] {
  if (MAPS.has(path)) return [];
  const known = KEYS[path];
  if (!known) return [`${path} (a table gitlab-runner has no such section for)`];
  const out: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    if (!known.includes(key)) out.push(`${path}.${key}`);
    else if (key === "host_aliases")
      for (const alias of value as Record<string, unknown>[])
        out.push(
          ...Object.keys(alias)
            .filter((k) => !HOST_ALIAS_KEYS.includes(k))
            .map((k) => `${path}.${key}.${k}`),
        );
    else if (value && typeof value === "object" && !Array.isArray(value))
      out.push(...unknownKeys(value as Record<string, unknown>, `${path}.${key}`));
  }
  return out;
}

describe("runners/live: templates real gitlab-runner reads", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".toml"));

  it("one per executor", () => {
    expect(files.sort()).toEqual(["docker.toml", "kubernetes.toml", "shell.toml"]);
  });

  for (const file of files) {
    const text = readFileSync(join(DIR, file), "utf8");
    const config = parse(text) as { runners?: Record<string, unknown>[] };

    it(`${file}: a single [[runners]] section and nothing global (what --template-config merges)`, () => {
      expect(Object.keys(config)).toEqual(["runners"]);
      expect(config.runners).toHaveLength(1);
    });

    it(`${file}: only keys from gitlab-runner's config, no \${VAR} interpolation, no credentials`, () => {
      expect(unknownKeys(config.runners?.[0] ?? {}, "runners")).toEqual([]);
      expect(text).not.toMatch(/\$\{/);
      expect(Object.keys(config.runners?.[0] ?? {})).not.toContain("token");
    });
  }

  it("the unknown-key check catches a key gitlab-runner does not read (the project runner's docker.platform)", () => {
    expect(unknownKeys({ docker: { platform: "linux/arm64" } }, "runners")).toEqual([
      "runners.docker.platform",
    ]);
  });
});
