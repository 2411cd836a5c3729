// npm run bench:devfile — parse + validate + flatten (+ WorkspaceSpec) over the registry corpus, with the schemas
// compiled once up front. Prints the median time per file and the corpus total; the target is the whole corpus
// under 100 ms after warm-up. Wall time suffers when other processes share the cores, so CPU time of this
// process is printed beside it.
import { readdirSync, readFileSync } from "node:fs";
import { parseDevfileText, precompileSchemas, SCHEMA_VERSIONS } from "../src/devfile/index.ts";

const CORPUS = new URL("../test/fixtures/devfiles/registry/", import.meta.url);
const TARGET_MS = 100;
const WARMUP_PASSES = 5;
const PASSES = Number(process.env.BENCH_PASSES ?? 30);
// The one registry devfile that uses a variable it does not define (see test/devfile/registry.test.ts).
const VARIABLES: Record<string, Record<string, string>> = {
  "java-wildfly-2.0.2.yaml": { imageName: "quay.io/wildfly/wildfly:latest" },
};

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const p95 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))]!;
const ms = (x: number) => x.toFixed(2).padStart(8);

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((name) => ({
    name,
    path: new URL(name, CORPUS).pathname,
    text: readFileSync(new URL(name, CORPUS), "utf8"),
  }));

const compileStarted = performance.now();
precompileSchemas();
const compileMs = performance.now() - compileStarted;

interface Pass {
  perFile: number[];
  wall: number;
  cpu: number;
}

async function pass(): Promise<Pass> {
  const perFile: number[] = [];
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (const f of files) {
    const t = performance.now();
    const result = await parseDevfileText(f.text, f.path, { variables: VARIABLES[f.name] ?? {} });
    perFile.push(performance.now() - t);
    if (!result.ok) throw new Error(`${f.name} did not validate: ${result.errors[0]?.message}`);
  }
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return { perFile, wall, cpu: (cpu.user + cpu.system) / 1000 };
}

process.stderr.write(`warming up (${WARMUP_PASSES} passes)...\n`);
for (let i = 0; i < WARMUP_PASSES; i++) await pass();
const passes: Pass[] = [];
for (let i = 0; i < PASSES; i++) passes.push(await pass());

const perFileSamples = files.map((_, j) => passes.map((p) => p.perFile[j]!));
const walls = passes.map((p) => p.wall);
const cpus = passes.map((p) => p.cpu);
const nameWidth = Math.max(...files.map((f) => f.name.length));

console.log(
  `devfile engine benchmark: ${files.length} registry devfiles, ${PASSES} passes after ${WARMUP_PASSES} warm-up passes`,
);
console.log(
  `schemas compiled once: ${SCHEMA_VERSIONS.length} versions in ${compileMs.toFixed(0)} ms (not counted below)`,
);
console.log("");
console.log(`${"file".padEnd(nameWidth)}  median ms     p95 ms`);
for (const [j, f] of files.entries()) {
  console.log(
    `${f.name.padEnd(nameWidth)}  ${ms(median(perFileSamples[j]!))}   ${ms(p95(perFileSamples[j]!))}`,
  );
}
console.log("");
const totalMedian = median(walls);
console.log(`median time per file: ${median(perFileSamples.flat()).toFixed(2)} ms`);
console.log(
  `corpus total, wall (median of ${PASSES} passes): ${totalMedian.toFixed(2)} ms; best ${Math.min(...walls).toFixed(2)} ms, p95 ${p95(walls).toFixed(2)} ms`,
);
console.log(`corpus total, CPU time of this process (median): ${median(cpus).toFixed(2)} ms`);
console.log(
  `target: whole corpus under ${TARGET_MS} ms after warm-up: ${totalMedian < TARGET_MS ? "met" : "MISSED"}`,
);
