#!/usr/bin/env node
// The standalone `toil` command: everything bundled, runs with only Node installed.
import { registerBundleResolution } from "./register.js";
import { onlyShowsHelp } from "../cli/argv-scan.js";

// The resolution hooks run on a thread of their own; a command line that only prints help loads no user code.
if (!onlyShowsHelp(process.argv.slice(2))) registerBundleResolution();
await import("../cli.js");
