/** What `toil run` says after a job too big for the batch system, depending on what can still fix it. */
import { describe, expect, test } from "vitest";
import { InsufficientSystemResources } from "@toil/batch-core";
import { insufficientResourcesAdvice } from "../src/resource-advice.js";

const refusal = (restartOptions?: string[]) =>
  new InsufficientSystemResources({ resource: "memory", requested: 2 ** 50, available: 2 ** 30, ...(restartOptions ? { restartOptions } : {}) });

describe("advice after InsufficientSystemResources", () => {
  test("nothing ran: no store was left, run the same command again after the fix", () => {
    expect(insufficientResourcesAdvice(refusal(["--maxMemory"]), undefined, false).join(" ")).toMatch(/Nothing ran and no job store was left/);
  });
  test("store kept and an option can fix it: --restart with that option", () => {
    const text = insufficientResourcesAdvice(refusal(["--maxCores", "--scale"]), "/js", false).join(" ");
    expect(text).toContain("The job store /js was kept");
    expect(text).toContain("`toil run … --restart` and a new --maxCores or --scale");
  });
  test("store kept but no option can fix it: start over, and never suggest --restart as the fix", () => {
    const text = insufficientResourcesAdvice(refusal([]), "/js", true).join(" ");
    expect(text).toContain("no option given with --restart can make this job fit");
    expect(text).toContain("toil clean /js");
    expect(text).toContain("run again without --restart");
  });
});
