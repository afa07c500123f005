import { describe, expect, it } from "vitest";
import { batchSystemFromArgv, onlyShowsHelp, usesBatchSystemOptions } from "../src/cli/argv-scan.js";

describe("what the toil command line asks for, before anything loads", () => {
  it("finds the batch system in either flag form, never in the workflow's own arguments", () => {
    expect(batchSystemFromArgv(["run", "flow.ts", "--batchSystem", "slurm"])).toBe("slurm");
    expect(batchSystemFromArgv(["run", "flow.ts", "--batchSystem=my_plugin"])).toBe("my_plugin");
    expect(batchSystemFromArgv(["run", "flow.ts", "--", "--batchSystem", "slurm"])).toBeUndefined();
    expect(batchSystemFromArgv(["status", "js"])).toBeUndefined();
  });

  it("loads the batch systems' options for the commands that accept, write or show them", () => {
    for (const argv of [["run", "flow.ts"], ["run", "--help"], ["config", "c.yaml"], ["cwl", "tool.cwl"], ["help", "run"], ["help", "config"]]) {
      expect(usesBatchSystemOptions(argv), argv.join(" ")).toBe(true);
    }
    for (const argv of [[], ["--help"], ["help"], ["--version"], ["status", "js"], ["clean", "js"], ["kill", "js"], ["help", "status"]]) {
      expect(usesBatchSystemOptions(argv), argv.join(" ")).toBe(false);
    }
  });

  it("knows a command line that only prints help or the version", () => {
    for (const argv of [[], ["--help"], ["-h"], ["-V"], ["--version"], ["help"], ["help", "run"], ["run", "--help"], ["run", "flow.ts", "-h"]]) {
      expect(onlyShowsHelp(argv), argv.join(" ")).toBe(true);
    }
    for (const argv of [["run", "flow.ts"], ["run", "flow.ts", "--", "--help"], ["status", "js"], ["debug-job", "js", "abc"]]) {
      expect(onlyShowsHelp(argv), argv.join(" ")).toBe(false);
    }
  });
});
