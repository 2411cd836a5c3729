import { runBenchTarget } from "./target.ts";

await runBenchTarget();
