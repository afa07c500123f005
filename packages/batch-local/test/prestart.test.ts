import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prestartWarmHost } from "../src/index.js";
import { cleanup, desc, makeBatchSystem, next, tempDir, until } from "./helpers.js";

afterEach(cleanup, 60_000);

/** A warm script that notes each import and each job with the pid of the process it runs in. */
function noteScript(dir: string): { script: string; log: string } {
  const script = join(dir, "note.mjs");
  const log = join(dir, "log");
  writeFileSync(
    script,
    `import { appendFileSync } from "node:fs";
    appendFileSync(${JSON.stringify(log)}, "imported " + process.pid + "\\n");
    export async function runWarmCommand() {
      appendFileSync(${JSON.stringify(log)}, "ran " + process.pid + " " + (process.env.LATE_VAR ?? "-") + "\\n");
      return 0;
    }\n`,
  );
  return { script, log };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Prestart a host for a fresh note script; resolves once it imported the script (before any batch system exists). */
async function prestarted(): Promise<{ script: string; log: string; hostPid: number }> {
  const { script, log } = noteScript(tempDir());
  prestartWarmHost(script, ["LATE_VAR"]);
  await until("the host to import the script", () => existsSync(log) && readFileSync(log, "utf8").startsWith("imported "));
  return { script, log, hostPid: Number(readFileSync(log, "utf8").split("\n")[0]!.split(" ")[1]) };
}

describe("a warm host started before the batch system", () => {
  it("imports the script at once; the first job runs in it, with the batch system's environment", async () => {
    const { script, log, hostPid } = await prestarted();
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, output: () => {} });
    bs.setEnv("LATE_VAR", "set-late");
    const id = await bs.issueBatchJob(`${process.execPath} ${script}`, desc("first"));
    const done = await next(bs);
    expect([done.jobId, done.exitStatus, done.backingId]).toEqual([id, 0, String(hostPid)]);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual([`imported ${hostPid}`, `ran ${hostPid} set-late`]);
    await bs.shutdown();
    await until("the prestarted host to exit", () => !alive(hostPid));
  });

  it("is stopped, not used, when the batch system's hosts would start with a different environment", async () => {
    const { script, log, hostPid } = await prestarted();
    const bs = makeBatchSystem({ maxCores: 1 }, { warmWorkers: true, output: () => {} });
    bs.setEnv("NODE_OPTIONS", "--no-warnings");
    await bs.issueBatchJob(`${process.execPath} ${script}`, desc("first"));
    const done = await next(bs);
    expect(done.exitStatus).toBe(0);
    expect(done.backingId).not.toBe(String(hostPid));
    await until("the prestarted host to exit", () => !alive(hostPid));
    expect(readFileSync(log, "utf8")).toContain(`ran ${done.backingId} -`);
  });
});
