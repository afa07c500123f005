#!/usr/bin/env node
// The standalone `toil-worker` (the standalone leader issues this file).
import { registerBundleResolution } from "./register.js";
import { runWarmCommand as run, runWorkerIfMain } from "@toil/worker";

registerBundleResolution();

/** Warm worker protocol entry (see @toil/worker). */
export const runWarmCommand = run;

await runWorkerIfMain(import.meta.url);
