// The harness may reach workspaces only through what a real GitLab exposes: its modules must not import the
// simulators (src/sim/**) or the in-process reconciler. The tiers' environments (src/tier/local.ts, like `sim up`
// and docker-compose.yml) start the simulators; the harness reads the settings they write.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const FORBIDDEN = [/^src\/sim\//, /^src\/kubernetes\/reconciler\.ts$/];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Static, type-only, re-export and dynamic imports of relative modules. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.[^"']+)["']/g))
    found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\s*\(\s*["'](\.[^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

describe("the harness's import graph", () => {
  it("finds every kind of relative import", () => {
    const text = `import { a } from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport {\n  e,\n} from "./e.ts";\n`;
    expect(relativeImports(text).sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts"]);
  });

  it("reaches no simulator and no reconciler", () => {
    const edges: string[] = [];
    for (const file of sources(join(ROOT, "src/harness"))) {
      for (const spec of relativeImports(readFileSync(file, "utf8"))) {
        const target = relative(ROOT, resolve(dirname(file), spec));
        if (FORBIDDEN.some((f) => f.test(target))) edges.push(`${relative(ROOT, file)} → ${target}`);
      }
    }
    expect([...new Set(edges)].sort()).toEqual([]);
  });
});
