import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { REPO_ROOT, SMALL, runToil, tempDir } from "./e2e/helpers.js";

const EXAMPLES = path.join(REPO_ROOT, "examples");

function example(name: string): string {
  return path.join(EXAMPLES, name);
}

describe("examples run end to end through the toil CLI", { timeout: 240_000 }, () => {
  test("hello-world", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", "flow.ts", "--jobStore", js, ...SMALL, "--", "toil"], { cwd: example("hello-world") });
    expect(r.stderr).toContain("Hello, toil!");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('"Hello, toil!"');
    expect(existsSync(js)).toBe(false); // --clean onSuccess
  });

  test("fan-out-fan-in with promises", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", "flow.ts", "--jobStore", js, ...SMALL, "--", "30"], { cwd: example("fan-out-fan-in") });
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Array.from({ length: 30 }, (_, i) => i * i).reduce((a, b) => a + b, 0));
  });

  test("files: import, write, read, export", async () => {
    const dir = tempDir();
    const out = path.join(dir, "out", "upper.txt");
    const r = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, "--", "input.txt", out], { cwd: example("files") });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(path.join(example("files"), "input.txt"), "utf8").toUpperCase());
  });

  // The service host is told to stop when its client is done, not at its next poll: with an
  // hour between polls the run still ends (runToil kills a run after two minutes).
  test("services: the service stops when its client is done, not at its next poll", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", "flow.ts", "--jobStore", js, ...SMALL, "--servicePollingInterval", "3600"], { cwd: example("services") });
    expect(r.signal, "the run did not end: the service waited for its next poll").toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ a: "1", b: "2" });
  });

  test("checkpoints", async () => {
    const dir = tempDir();
    const r = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, "--retryCount", "1", "--retryBackoffSeconds", "0", "--", path.join(dir, "state")], {
      cwd: example("checkpoints"),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("ok after 2 runs");
  });

  test("requirements", async () => {
    const js = path.join(tempDir(), "js");
    const r = await runToil(["run", "flow.ts", "--jobStore", js, ...SMALL], { cwd: example("requirements") });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("running with disk=1536 cores=1");
  });

  test("failing job with retries", async () => {
    const dir = tempDir();
    const ok = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, "--retryCount", "2", "--retryBackoffSeconds", "0.1", "--", path.join(dir, "state")], {
      cwd: example("failing-retries"),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toBe("worked on try 3");
    // Not enough retries: a clear FailedJobsError with the job's log.
    rmSync(path.join(dir, "state"), { recursive: true, force: true });
    const bad = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js2"), ...SMALL, "--retryCount", "1", "--retryBackoffSeconds", "0", "--", path.join(dir, "state")], {
      cwd: example("failing-retries"),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/1 failed job/);
    expect(bad.stderr).toContain("flaky job failed on try 2");
  });

  test("word-count pipeline", async () => {
    const dir = tempDir();
    const out = path.join(dir, "counts.json");
    const r = await runToil(["run", "flow.ts", "--jobStore", path.join(dir, "js"), ...SMALL, "--", "sample.txt", out, "3"], { cwd: example("word-count") });
    expect(r.code, r.stderr).toBe(0);
    const counts = JSON.parse(readFileSync(out, "utf8")) as Record<string, number>;
    const words = readFileSync(path.join(example("word-count"), "sample.txt"), "utf8").toLowerCase().match(/[a-z0-9']+/g)!;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(words.length);
    expect(counts.the).toBe(words.filter((w) => w === "the").length);
    expect(Number(r.stdout.trim())).toBe(words.length);
  });
});
