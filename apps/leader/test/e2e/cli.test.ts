/**
 * The CLI and the Toil API from the outside: bad workflow files fail before anything runs,
 * configuration precedence, `toil config`, and scripts that drive `Toil` themselves.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { FIXTURES, LEADER_DIR, SMALL, runToil, tempDir, type RunResult } from "./helpers.js";

function runScript(script: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: LEADER_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid! }));
  });
}

describe("bad workflow files are clear errors before anything runs", { timeout: 120_000 }, () => {
  const cases: Array<[string, RegExp]> = [
    ["syntax-error.ts", /Cannot load workflow file .*syntax-error\.ts/],
    ["no-default.ts", /has no default export function/],
    ["not-exported.ts", /'Hidden'.*cannot be found again by a worker[\s\S]*export/],
    ["unserializable.ts", /function/i],
  ];
  for (const [file, message] of cases) {
    test(file, async () => {
      const dir = tempDir();
      const js = path.join(dir, "js");
      let flow = path.join(FIXTURES, "bad", file);
      if (file === "syntax-error.ts") {
        // Written at test time so the repository's typecheck never sees it.
        flow = path.join(dir, file);
        writeFileSync(flow, 'import { Job } from "@toil/job";\nexport class Broken extends Job {\n  run( {\n    return 1;\n  }\n}\n');
      }
      const r = await runToil(["run", flow, "--jobStore", js, ...SMALL]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Issued job|Running workflow .* Got message/);
      expect(existsSync(js)).toBe(false); // nothing left behind
    });
  }

  test("unknown flag, malformed size, impossible value", async () => {
    const flow = path.join(FIXTURES, "scenarios.ts");
    const js = path.join(tempDir(), "js");
    const unknown = await runToil(["run", flow, "--jobStore", js, "--retryCont", "3"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--retryCont'[\s\S]*--retryCount/);
    const size = await runToil(["run", flow, "--jobStore", js, "--defaultMemory", "2Gx"]);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/defaultMemory \(from --defaultMemory\): "2Gx" is not a size/);
    const impossible = await runToil(["run", flow, "--jobStore", js, "--badWorker", "1.5"]);
    expect(impossible.code).toBe(2);
    expect(impossible.stderr).toMatch(/badWorker .*at most 1/);
    expect(existsSync(js)).toBe(false);
  });
});

describe("configuration through the CLI", { timeout: 120_000 }, () => {
  test("precedence flag > env > file > default, stored in the job store", async () => {
    const d = tempDir();
    const file = path.join(d, "toil.yaml");
    const gen = await runToil(["config", file]);
    expect(gen.code, gen.stderr).toBe(0);
    const text = readFileSync(file, "utf8");
    for (const key of ["workDir", "batchSystem", "symlinkImports", "defaultMemory", "retryCount"]) expect(text).toMatch(new RegExp(`^${key}:`, "m"));
    writeFileSync(file, text.replace(/^retryCount: .*$/m, "retryCount: 7").replace(/^maxLogFileSize: .*$/m, "maxLogFileSize: 1Mi").replace(/^statusWait: .*$/m, "statusWait: 100"));
    const js = path.join(d, "js");
    const flow = path.join(FIXTURES, "scenarios.ts");
    const r = await runToil(
      ["run", flow, "--jobStore", js, "--config", file, ...SMALL, "--statusWait", "200", "--clean", "never", "--", "diamond"],
      { env: { TOIL_BATCH_LOGS_DIR: d } },
    );
    expect(r.code, r.stderr).toBe(0);
    const stored = JSON.parse(readFileSync(path.join(js, "meta", "config.json"), "utf8")) as { config: Record<string, unknown> };
    expect(stored.config.retryCount).toBe(7); // file
    expect(stored.config.statusWait).toBe(200); // flag beats file
    expect(stored.config.batchLogsDir).toBe(d); // env
    expect(stored.config.maxLogFileSize).toBe(2 ** 20); // file, size parsed
    expect(stored.config.retryBackoffFactor).toBe(3); // default
  });
});

describe("scripts that drive Toil themselves", { timeout: 180_000 }, () => {
  const script = path.join(FIXTURES, "toil-script.ts");

  test("38: start outside the scope is refused; a failed export keeps the store; restart returns the stored result", async () => {
    const d = tempDir();
    const js = path.join(d, "js");
    const outside = await runScript(script, ["outside", js, ...SMALL]);
    expect(outside.stdout).toMatch(/ToilContextError: Toil\.start\(\) must be called inside an open Toil scope/);
    expect(existsSync(js)).toBe(false);

    const failed = await runScript(script, ["failExport", js, ...SMALL]);
    expect(failed.stdout, failed.stderr).toContain("closed after: simulated failed export");
    expect(existsSync(js)).toBe(true); // --clean onSuccess keeps it after an error

    const out = path.join(d, "exported.txt");
    const again = await runScript(script, ["restartExport", js, ...SMALL, "--", out]);
    expect(again.stdout, again.stderr).toContain("exported");
    expect(readFileSync(out, "utf8")).toBe("Hello, World!");
  });

  test("a guarded script runs; Toil.parseArgs takes the job store as a positional argument", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runScript(script, ["run", js, ...SMALL]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toMatch(/Hello|stream/);
  });

  test("an unguarded script gets a clear error naming the one-line fix", async () => {
    // Written at test time: a script that registers its own jobs (it imports itself) but runs its
    // main part unconditionally. The worker that imports it to find `Answer` must refuse clearly.
    const d = tempDir();
    const job = realpathSync(path.join(LEADER_DIR, "node_modules", "@toil", "job", "dist", "index.js"));
    const script = path.join(d, "unguarded.mts");
    writeFileSync(
      script,
      `import { Job, registerModule } from ${JSON.stringify(pathToFileURL(job).href)};
import { Toil } from ${JSON.stringify(pathToFileURL(path.join(LEADER_DIR, "src", "index.ts")).href)};
import * as self from "./unguarded.mts";
registerModule(import.meta.url, self);
export class Answer extends Job {
  constructor() { super({ memory: "32Mi", cores: 0.1, disk: "1Mi" }); }
  run() { return 42; }
}
const options = Toil.parseArgs(process.argv.slice(2));
await using toil = await Toil.open({ ...options, retryCount: 0, disableProgress: true });
console.log(JSON.stringify(await toil.start(new Answer())));
`,
    );
    const r = await runScript(script, [path.join(d, "js"), ...SMALL]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Toil\.isMain\(import\.meta\.url, self\)/);
  });
});
