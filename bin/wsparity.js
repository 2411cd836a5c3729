#!/usr/bin/env node
// Loads the TypeScript CLI in-process through tsx, so the package runs from a clone without a build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
