import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import YAML from "yaml";
import { Command } from "commander";
import { ConfigError, configFromJSON, configToJSON, defaultConfig, prepareRestart, prepareStart } from "@toil/job";
import type { ConfigOptionSpec as BatchSystemOptionSpec } from "@toil/job";
import { resolveConfig } from "../src/config/resolve.js";
import { renderConfigFile } from "../src/config/file.js";
import { addToilOptions, configFromCommand } from "../src/cli/toil-options.js";

const tmp = () => mkdtempSync(path.join(tmpdir(), "toil-config-test-"));

function parseFlags(argv: string[], plugin: BatchSystemOptionSpec[] = [], env: NodeJS.ProcessEnv = {}) {
  const cmd = addToilOptions(new Command("run").exitOverride().configureOutput({ writeErr: () => {} }), plugin);
  cmd.parse(argv, { from: "user" });
  return configFromCommand(cmd.opts(), plugin, env);
}

describe("Config schema", () => {
  test("defaults follow Toil", () => {
    const c = defaultConfig();
    expect(c.defaultMemory).toBe(2 * 2 ** 30);
    expect(c.defaultDisk).toBe(2 * 2 ** 30);
    expect(c.defaultCores).toBe(1);
    expect(c.retryCount).toBe(1);
    expect(c.retryBackoffSeconds).toBe(2);
    expect(c.retryBackoffFactor).toBe(3);
    expect(c.clean).toBe("onSuccess");
    expect(c.cleanWorkDir).toBe("always");
    expect(c.batchSystem).toBe("single_machine");
    expect(c.logLevel).toBe("info");
    expect(c.deadlockWait).toBe(60);
    expect(c.badWorker).toBe(0);
    expect(c.badWorkerFailInterval).toBe(0.01);
    expect(c.maxLogFileSize).toBe(100 * 2 ** 20);
    expect(c.maxCores).toBeUndefined();
  });

  test("sizes parse in decimal and binary units", () => {
    expect(defaultConfig({ defaultMemory: "2G" }).defaultMemory).toBe(2_000_000_000);
    expect(defaultConfig({ defaultMemory: "2Gi" }).defaultMemory).toBe(2 ** 31);
    expect(defaultConfig({ defaultDisk: "500Mi" }).defaultDisk).toBe(524_288_000);
    expect(defaultConfig({ maxMemory: "1.5G", defaultMemory: "1G" }).maxMemory).toBe(1_500_000_000);
  });

  test("JSON round trip, start and restart", () => {
    const started = prepareStart(defaultConfig({ jobStore: "/tmp/js", retryCount: 4, environment: { A: "b" }, writeMessages: "/tmp/m" }));
    expect(started.workflowId).toMatch(/[0-9a-f-]{36}/);
    const back = configFromJSON(configToJSON(started));
    expect(back).toEqual(started);
    const restarted = prepareRestart(back, { retryCount: 7 });
    expect(restarted.workflowId).toBe(started.workflowId);
    expect(restarted.workflowAttemptNumber).toBe(1);
    expect(restarted.retryCount).toBe(7);
    expect(restarted.writeMessages).toBeUndefined();
    expect(restarted.environment).toEqual({ A: "b" });
  });

  test("impossible values are errors naming the option", () => {
    expect(() => defaultConfig({ retryCount: -1 })).toThrow(/retryCount: .*at least 0/);
    expect(() => defaultConfig({ badWorker: 2 })).toThrow(/badWorker/);
    expect(() => defaultConfig({ defaultMemory: "lots" })).toThrow(/defaultMemory: "lots" is not a size/);
    expect(() => defaultConfig({ defaultCores: 4, maxCores: 2 })).toThrow(/defaultCores.*exceeds maxCores/);
    expect(() => defaultConfig({ retryCont: 3 } as never)).toThrow(ConfigError);
  });
});

describe("config from flags, environment and file", () => {
  test("precedence: flag > env > file > default", () => {
    const dir = tmp();
    const file = path.join(dir, "c.yaml");
    writeFileSync(file, YAML.stringify({ retryCount: 5, defaultMemory: "1Gi", workDir: dir, maxJobs: 3 }));
    const workEnv = path.join(dir, "env-work");
    mkdirSync(workEnv);
    const env = { TOIL_WORKDIR: workEnv };
    // file only
    let r = parseFlags(["--config", file]);
    expect(r.config.retryCount).toBe(5);
    expect(r.config.workDir).toBe(dir);
    expect(r.config.defaultMemory).toBe(2 ** 30);
    // env beats file
    r = parseFlags(["--config", file], [], env);
    expect(r.config.workDir).toBe(workEnv);
    expect(r.explicit.get("workDir")).toBe("env");
    // flag beats env and file
    r = parseFlags(["--config", file, "--workDir", dir, "--retryCount", "2", "--defaultMemory", "3G"], [], env);
    expect(r.config.workDir).toBe(dir);
    expect(r.config.retryCount).toBe(2);
    expect(r.config.defaultMemory).toBe(3_000_000_000);
    expect(r.explicit.get("retryCount")).toBe("flag");
    // default when none
    expect(parseFlags([]).config.retryCount).toBe(1);
    expect(parseFlags([]).explicit.size).toBe(0);
  });

  test("boolean flags and their negations", () => {
    expect(parseFlags(["--doubleMem"]).config.doubleMem).toBe(true);
    expect(parseFlags(["--no-symlinkImports"]).config.symlinkImports).toBe(false);
    expect(parseFlags([]).config.symlinkImports).toBe(true);
  });

  test("setEnv, accelerators, log shortcuts, jobstore alias", () => {
    const r = parseFlags(["--setEnv", "A=1", "--setEnv", "B=two", "--defaultAccelerators", "cuda:2", "--logDebug", "--jobstore", "rel/js"]);
    expect(r.config.environment).toEqual({ A: "1", B: "two" });
    expect(r.config.defaultAccelerators[0]).toMatchObject({ kind: "gpu", count: 2, api: "cuda" });
    expect(r.config.logLevel).toBe("debug");
    expect(r.config.jobStore).toBe(path.resolve("rel/js"));
  });

  test("errors: unknown flag, malformed size, impossible value, bad file", () => {
    expect(() => parseFlags(["--retryCont", "2"])).toThrow(/unknown option '--retryCont'/);
    expect(() => parseFlags(["--defaultMemory", "2Gx"])).toThrow(/defaultMemory \(from --defaultMemory\): "2Gx" is not a size/);
    expect(() => parseFlags(["--retryCount", "-3"])).toThrow(/retryCount \(from --retryCount\): -3 is too small/);
    expect(() => parseFlags(["--workDir", "/nonexistent/dir/x"])).toThrow(/workDir .* does not exist/);
    expect(() => parseFlags(["--clean", "sometimes"])).toThrow(/not one of always, onError, onSuccess, never/);
    const dir = tmp();
    const file = path.join(dir, "c.yaml");
    writeFileSync(file, "retryCont: 3\n");
    expect(() => parseFlags(["--config", file])).toThrow(/retryCont: unknown option; did you mean "retryCount"\?/);
    writeFileSync(file, "defaultMemory: [1\n");
    expect(() => parseFlags(["--config", file])).toThrow(/not valid YAML/);
    expect(() => resolveConfig({ env: { TOIL_WORKDIR: "/nonexistent/x" } })).toThrow(/workDir \(from \$TOIL_WORKDIR\)/);
  });

  test("plugin options: flag, env, file, default", () => {
    const plugin: BatchSystemOptionSpec[] = [
      { name: "fakeArgument", kind: "string", section: "Fake", help: "A plugin option.", default: "exists", env: "TOIL_FAKE" },
      { name: "fakeCount", kind: "int", section: "Fake", help: "A number." },
    ];
    expect(parseFlags([], plugin).config.batchOptions).toEqual({ fakeArgument: "exists" });
    expect(parseFlags(["--fakeArgument", "x", "--fakeCount", "3"], plugin).config.batchOptions).toEqual({ fakeArgument: "x", fakeCount: 3 });
    expect(parseFlags([], plugin, { TOIL_FAKE: "fromenv" }).config.batchOptions.fakeArgument).toBe("fromenv");
    expect(() => parseFlags(["--fakeCount", "x"], plugin)).toThrow(/fakeCount/);
  });

  test("toil config writes a commented file that reads back to the defaults", () => {
    const text = renderConfigFile([{ name: "fakeArgument", kind: "string", section: "Fake", help: "A plugin option.", default: "exists" }]);
    for (const key of ["workDir", "batchSystem", "symlinkImports", "defaultMemory", "retryCount", "fakeArgument"]) {
      expect(text).toMatch(new RegExp(`^${key}:`, "m"));
    }
    expect(text).toMatch(/^# .*memory/im);
    const dir = tmp();
    const file = path.join(dir, "all.yaml");
    writeFileSync(file, text);
    const fromFile = resolveConfig({ configFile: file, env: {}, pluginSpecs: [{ name: "fakeArgument", kind: "string", section: "Fake", help: "x", default: "exists" }] });
    const defaults = defaultConfig();
    expect({ ...fromFile.config, batchOptions: {} }).toEqual(defaults);
    expect(readFileSync(file, "utf8")).toContain("defaultMemory: 2Gi");
  });
});
