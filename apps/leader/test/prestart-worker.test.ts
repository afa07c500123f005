import { describe, expect, it } from "vitest";
import { TRUSTED_MODULE_ROOTS_ENV } from "@toil/job";
import { mayUseWarmHosts, PRESTART_LATE_ENV } from "../src/cli/prestart-worker.js";

describe("the warm host toil run starts before loading the workflow", () => {
  it("may lack only the trusted module roots, which each job's environment carries", () => {
    expect(PRESTART_LATE_ENV).toEqual([TRUSTED_MODULE_ROOTS_ENV]);
  });

  it("is started for runs that may use warm hosts of the single-machine batch system only", () => {
    expect(mayUseWarmHosts(["run", "flow.ts", "--jobStore", "js"])).toBe(true);
    expect(mayUseWarmHosts(["run", "flow.ts", "--batchSystem", "single_machine"])).toBe(true);
    expect(mayUseWarmHosts(["run", "flow.ts", "--", "--help"])).toBe(true);
    expect(mayUseWarmHosts(["run", "flow.ts", "--batchSystem", "slurm"])).toBe(false);
    expect(mayUseWarmHosts(["run", "flow.ts", "--batchSystem=slurm"])).toBe(false);
    expect(mayUseWarmHosts(["run", "--help"])).toBe(false);
    expect(mayUseWarmHosts(["run", "flow.ts", "--debugWorker"])).toBe(false);
    expect(mayUseWarmHosts(["run", "flow.ts", "--no-warmWorkers"])).toBe(false);
    expect(mayUseWarmHosts(["status", "js"])).toBe(false);
    expect(mayUseWarmHosts(["--help"])).toBe(false);
  });
});
