/**
 * `Toil.parseArgs` (scripts that drive the engine with the `Toil` class) accepts every flag
 * `toil run` accepts, the batch systems' included.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { ConfigError } from "@toil/job";
import { Toil } from "../src/index.js";

const KNOB_PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "knob-batch-system.mjs");

describe("Toil.parseArgs", () => {
  test("accepts the bundled batch systems' flags, as toil run does", () => {
    const local = Toil.parseArgs(["./js", "--warmWorkers", "--killGraceSeconds", "5", "--retryCount", "3"], {});
    expect(local.batchOptions).toMatchObject({ warmWorkers: true, killGraceSeconds: 5 });
    expect(local.retryCount).toBe(3);
    const slurm = Toil.parseArgs(
      ["--jobStore", "./js", "--batchSystem", "slurm", "--slurmPartition", "long", "--slurmTime", "1:00:00", "--", "x"],
      {},
    );
    expect(slurm.batchSystem).toBe("slurm");
    expect(slurm.batchOptions).toMatchObject({ slurmPartition: "long", slurmTime: "1:00:00" });
    expect(slurm.args).toEqual(["x"]);
    expect(slurm.explicitOptions).toEqual(expect.arrayContaining(["slurmPartition", "slurmTime"]));
  });

  test("reads the batch systems' environment variables too", () => {
    const parsed = Toil.parseArgs(["./js", "--batchSystem", "slurm"], { TOIL_SLURM_PARTITION: "gpu" });
    expect(parsed.batchOptions.slurmPartition).toBe("gpu");
  });

  test("parseArgsAsync loads a plugin named with --batchSystem and accepts its flags", async () => {
    const argv = ["./js", "--batchSystem", KNOB_PLUGIN, "--fidelityKnob", "7"];
    expect(() => Toil.parseArgs(argv, {})).toThrow(/parseArgsAsync/);
    const parsed = await Toil.parseArgsAsync(argv, {});
    expect(parsed.batchOptions.fidelityKnob).toBe(7);
  });

  test("an unknown flag is still a ConfigError", () => {
    expect(() => Toil.parseArgs(["./js", "--noSuchFlag"], {})).toThrow(ConfigError);
  });
});
