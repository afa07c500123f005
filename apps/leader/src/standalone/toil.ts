#!/usr/bin/env node
// The standalone `toil` command: everything bundled, runs with only Node installed.
import { registerBundleResolution } from "./register.js";

registerBundleResolution();
await import("../cli.js");
