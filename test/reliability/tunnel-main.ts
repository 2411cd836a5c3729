// `wsparity tunnel …` alone, bundled by test/reliability/bundles.ts so a restarted server listens again in a
// fraction of a second, as a deployed one does (the CLI through tsx takes seconds on a loaded machine).
import { Command } from "commander";
import { registerTunnelCommands } from "../../src/tunnel/cli.ts";

const program = new Command("wsparity");
registerTunnelCommands(program);
await program.parseAsync();
