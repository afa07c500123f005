#!/usr/bin/env node
// The standalone `toil-cwl-runner` command: everything bundled, runs with only Node installed.
import { registerBundleResolution } from "./register.js";

registerBundleResolution();
await import("../cwl-runner.js");
