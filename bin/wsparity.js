#!/usr/bin/env node
// Loads the TypeScript CLI in-process through tsx, so the package runs from a clone without a build step.
// It calls main itself: npm starts this file through a bin link (node_modules/.bin/wsparity), whose path
// says nothing about which module is the program.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
