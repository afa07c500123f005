import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, desc, drain, kitJob, makeBatchSystem, next, tempDir, until } from "./helpers.js";

afterEach(cleanup, 60_000);

describe("warm worker hosts", () => {
  it("reuse one host for successive jobs, with per-job environment", async () => {
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true });
    const a = await bs.issueBatchJob(kitJob("envcheck", "WARM_FOO", "x"), desc("a"), { WARM_FOO: "x" });
    const ua = await next(bs);
    const b = await bs.issueBatchJob(kitJob("envcheck", "WARM_FOO", "x"), desc("b"));
    const ub = await next(bs);
    expect([ua.jobId, ua.exitStatus]).toEqual([a, 23]);
    expect([ub.jobId, ub.exitStatus]).toEqual([b, 42]);
    expect(ub.backingId).toBe(ua.backingId);
    expect(bs.warmHostCount).toBe(1);
  });

  it("what a job does to process.env (set, delete, define, through node:process, or replacing the object) never reaches the next job in the host", async () => {
    const dir = tempDir();
    const script = join(dir, "env.mjs");
    writeFileSync(
      script,
      `import { env as importedEnv } from "node:process";
      export async function runWarmCommand(argv) {
        const step = argv[2];
        if (step === "set") process.env.WARM_SET = "leaked";
        else if (step === "delete") delete process.env.WARM_KEPT;
        else if (step === "define") Object.defineProperty(process.env, "WARM_DEFINED", { value: "leaked", enumerable: true, configurable: true, writable: true });
        else if (step === "import") importedEnv.WARM_IMPORTED = "leaked";
        else if (step === "replace") process.env = { ...process.env, WARM_REPLACED: "leaked" };
        else if (step === "check") {
          const leaked = ["WARM_SET", "WARM_DEFINED", "WARM_IMPORTED", "WARM_REPLACED"].filter((k) => k in process.env);
          if (leaked.length > 0 || process.env.WARM_KEPT !== "kept") return 3;
          // Written through the real environment, not a copy: a child process sees the job's variables.
          return process.env.WARM_JOB === "job" ? 0 : 4;
        }
        return 0;
      }\n`,
    );
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, stdio: "ignore" });
    const exits: number[] = [];
    let host: string | null | undefined;
    for (const step of ["set", "check", "delete", "check", "define", "check", "import", "check", "replace", "check"]) {
      await bs.issueBatchJob(`${process.execPath} ${script} ${step}`, desc(step), { WARM_KEPT: "kept", WARM_JOB: "job" });
      const u = await next(bs);
      exits.push(u.exitStatus);
      host ??= u.backingId;
      expect(u.backingId).toBe(host);
    }
    expect(exits).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("a job that releases its host frees its resources at once: the next job runs in the same host while it finishes", async () => {
    const dir = tempDir();
    const script = join(dir, "release.mjs");
    const log = join(dir, "log");
    writeFileSync(
      script,
      `import { appendFileSync } from "node:fs";
      export async function runWarmCommand(argv, io) {
        const name = argv[2];
        appendFileSync(${JSON.stringify(log)}, "start " + name + "\\n");
        io.release?.();
        // Only the commit's sync would be left: the host takes the next job meanwhile.
        await new Promise((r) => setTimeout(r, 400));
        appendFileSync(${JSON.stringify(log)}, "end " + name + "\\n");
        return name === "b" ? 5 : 0;
      }\n`,
    );
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, stdio: "ignore" });
    const a = await bs.issueBatchJob(`${process.execPath} ${script} a`, desc("a"));
    const b = await bs.issueBatchJob(`${process.execPath} ${script} b`, desc("b"));
    const done = new Map<number, number>();
    for (const u of [await next(bs), await next(bs)]) done.set(u.jobId, u.exitStatus);
    expect(done).toEqual(new Map([[a, 0], [b, 5]]));
    // b started (one core: a's core was given back) before a ended, in the same host.
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["start a", "start b", "end a", "end b"]);
    expect(bs.warmHostCount).toBe(1);
  });

  it("a host crash fails only its job; the next job gets a new host", async () => {
    const dir = tempDir();
    const script = join(dir, "crash.mjs");
    writeFileSync(
      script,
      `export async function runWarmCommand(argv) {
        if (argv[2] === "crash") process.exit(9);
        if (argv[2] === "throw") throw new Error("boom");
        return 0;
      }\n`,
    );
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, stdio: "ignore" });
    await bs.issueBatchJob(`${process.execPath} ${script} ok`, desc("ok"));
    const first = await next(bs);
    await bs.issueBatchJob(`${process.execPath} ${script} crash`, desc("crash"));
    const crashed = await next(bs);
    expect(crashed.exitStatus).toBe(9);
    expect(crashed.backingId).toBe(first.backingId);
    await bs.issueBatchJob(`${process.execPath} ${script} throw`, desc("throw"));
    expect((await next(bs)).exitStatus).toBe(1);
    await bs.issueBatchJob(`${process.execPath} ${script} ok`, desc("ok2"));
    const after = await next(bs);
    expect(after.exitStatus).toBe(0);
    expect(after.backingId).not.toBe(first.backingId);
  });

  it("killing a warm job kills its host; the pool carries on", async () => {
    const dir = tempDir();
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true });
    const pidFile = join(dir, "pid");
    const id = await bs.issueBatchJob(kitJob("pidfile", pidFile, 1000), desc("long"));
    await until("job started", () => existsSync(pidFile));
    const hostPid = Number(readFileSync(pidFile, "utf8"));
    await bs.killBatchJobs([id]);
    expect(() => process.kill(hostPid, 0)).toThrow();
    await bs.issueBatchJob(kitJob("exit", 4), desc("next"));
    expect((await next(bs)).exitStatus).toBe(4);
    expect(await bs.getUpdatedBatchJob(0)).toBeNull();
  });

  it("a script that mentions but does not export runWarmCommand runs once, as a fresh process", async () => {
    const dir = tempDir();
    const script = join(dir, "plain.mjs");
    const marker = join(dir, "ran");
    writeFileSync(
      script,
      `import { appendFileSync } from "node:fs";
      // no runWarmCommand export here
      appendFileSync(${JSON.stringify(marker)}, "x");
      process.exitCode = 6;\n`,
    );
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true });
    await bs.issueBatchJob(`${process.execPath} ${script}`, desc("plain"));
    const u = await next(bs);
    expect(u.exitStatus).toBe(6);
    // Imported once by the host (side effect), then run fresh once: the host import must not
    // count as a run, so the file is written by the host import and the fresh run.
    expect(readFileSync(marker, "utf8").length).toBeLessThanOrEqual(2);
  });

  it("a script that does not mention runWarmCommand never enters a host", async () => {
    const dir = tempDir();
    const script = join(dir, "cold.mjs");
    const marker = join(dir, "ran");
    writeFileSync(script, `import { appendFileSync } from "node:fs"; appendFileSync(${JSON.stringify(marker)}, "x");\n`);
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true });
    await bs.issueBatchJob(`${process.execPath} ${script}`, desc("cold"));
    expect((await next(bs)).exitStatus).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("x");
    expect(bs.warmHostCount).toBe(0);
  });

  it("redirects a warm job's stdout/stderr to its log files", async () => {
    const dir = tempDir();
    const logs = tempDir();
    const script = join(dir, "talk.mjs");
    writeFileSync(script, `export async function runWarmCommand() { console.log("to out"); console.error("to err"); return 0; }\n`);
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, stdio: "files" }, { batchLogsDir: logs });
    const id = await bs.issueBatchJob(`${process.execPath} ${script}`, desc("talk"));
    expect((await next(bs)).exitStatus).toBe(0);
    expect(readFileSync(bs.formatStdOutErrPath(id, "local", "out"), "utf8")).toBe("to out\n");
    expect(readFileSync(bs.formatStdOutErrPath(id, "local", "err"), "utf8")).toBe("to err\n");
  });

  it("hands a warm job's stdout/stderr to the output option", async () => {
    const dir = tempDir();
    const script = join(dir, "talk.mjs");
    writeFileSync(script, `export async function runWarmCommand() { console.log("to out"); console.error("to err"); return 0; }\n`);
    const seen: Record<string, string> = { stdout: "", stderr: "" };
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, output: (stream, chunk) => (seen[stream] += chunk.toString()) });
    await bs.issueBatchJob(`${process.execPath} ${script}`, desc("talk"));
    expect((await next(bs)).exitStatus).toBe(0);
    for (let i = 0; i < 100 && (seen.stdout === "" || seen.stderr === ""); i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual({ stdout: "to out\n", stderr: "to err\n" });
  });

  it("hosts load their script a few at a time (warmStartsAtOnce), and a long first job does not hold up the next host", async () => {
    const dir = tempDir();
    const script = join(dir, "slow-load.mjs");
    // Each phase enters by creating a marker in its directory and records how many markers it sees
    // there (itself included), so overlap is observed directly, not inferred from clocks.
    // Loading takes 300 ms (top-level await); each job runs 3 s.
    writeFileSync(
      script,
      `import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
      import { join } from "node:path";
      const dir = ${JSON.stringify(dir)};
      const enter = (phase) => {
        mkdirSync(join(dir, phase), { recursive: true });
        const me = join(dir, phase, String(process.pid));
        writeFileSync(me, "");
        appendFileSync(join(dir, phase + ".seen"), readdirSync(join(dir, phase)).length + "\\n");
        return () => rmSync(me);
      };
      const loaded = enter("load");
      await new Promise((r) => setTimeout(r, 300));
      loaded();
      export async function runWarmCommand() {
        const ran = enter("run");
        await new Promise((r) => setTimeout(r, 3000));
        ran();
        return 0;
      }\n`,
    );
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, warmStartsAtOnce: 1, stdio: "ignore" });
    for (let i = 0; i < 5; i++) await bs.issueBatchJob(`${process.execPath} ${script}`, desc(`j${i}`, { cores: 0.1 }));
    const done = await drain(bs, 5);
    expect(done.map((u) => u.exitStatus)).toEqual([0, 0, 0, 0, 0]);

    const seen = (phase: string): number[] => readFileSync(join(dir, `${phase}.seen`), "utf8").trim().split("\n").map(Number);
    expect(seen("load").length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...seen("load"))).toBe(1);
    expect(Math.max(...seen("run"))).toBeGreaterThanOrEqual(2);
  });

  it("a program that awaits shutdown() with idle warm hosts runs on until they are gone (nothing else keeps it alive)", async () => {
    const dir = tempDir();
    const script = join(dir, "trivial.mjs");
    writeFileSync(script, "export async function runWarmCommand() { return 0; }\n");
    const program = join(dir, "program.mjs");
    const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
    writeFileSync(
      program,
      `import { SingleMachineBatchSystem } from ${JSON.stringify(pathToFileURL(dist).href)};
      const bs = new SingleMachineBatchSystem({ workflowId: "idle-shutdown", workDir: ${JSON.stringify(dir)} }, 2, 2 ** 30, 2 ** 30, { stdio: "ignore", logger: () => {} });
      const req = { jobName: "t", requirements: { cores: 1, memory: 2 ** 20, disk: 2 ** 20, accelerators: [], preemptible: false } };
      for (let i = 0; i < 40; i++) await bs.issueBatchJob(${JSON.stringify(`${process.execPath} ${script}`)}, req);
      for (let i = 0; i < 40; i++) await bs.getUpdatedBatchJob(60);
      await bs.shutdown();
      console.log("shut down");\n`,
    );
    // The program ended early only when its hosts' exits raced the end of the kill: run it a few times.
    for (let run = 0; run < 5; run++) {
      const r = spawnSync(process.execPath, [program], { encoding: "utf8", timeout: 60_000 });
      expect({ run, status: r.status, stdout: r.stdout.trim() }, r.stderr).toEqual({ run, status: 0, stdout: "shut down" });
    }
  });
});
