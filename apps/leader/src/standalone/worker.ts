#!/usr/bin/env node
// The standalone `toil-worker` (the standalone leader issues this file).
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { registerBundleResolution } from "./register.js";
import { runWorker, runWarmCommand as run } from "@toil/worker";

registerBundleResolution();

/** Warm worker protocol entry (see @toil/worker). */
export const runWarmCommand = run;

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exit(await runWorker(process.argv.slice(2), { env: process.env, cwd: process.cwd() }));
}
