/**
 * The operating commands through the real `toil` bin: bad input, and scenarios 41 (status/stats/
 * clean around a failing then restarted workflow), 96 (debug-job) and 97 (kill) adapted.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserAvailable, browserRequired, inspectReport, launchChromium } from "./ops-browser.js";
import { FLOW, assertBuilt, finish, startToil, toil, waitFor } from "./ops-helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "toil-ops-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => assertBuilt());

const NO_STACK = /\n\s+at .+:\d+:\d+/;

/** A finished (completed) store to point commands at. */
async function makeStore(name: string, extra: string[] = [], flowArgs: string[] = ["sort", "2", path.join(tmp, `${name}-state`)]): Promise<string> {
  const store = path.join(tmp, name);
  const r = await toil(["run", FLOW, "--jobStore", store, "--clean", "never", ...extra, "--", ...flowArgs], tmp);
  if (!fs.existsSync(path.join(store, "format.json"))) throw new Error(`toil run made no store:\n${r.stderr}`);
  return store;
}

describe("bad input", () => {
  const commands: string[][] = [["status"], ["stats"], ["report"], ["kill"], ["debug-job", "", "somejob"]];
  const argsFor = (cmd: string[], store: string) => (cmd.length > 1 ? [cmd[0]!, store, cmd[2]!] : [cmd[0]!, store]);

  it("a missing store: exit 2, says so, no stack trace", async () => {
    for (const cmd of commands) {
      const r = await toil(argsFor(cmd, path.join(tmp, "nope")), tmp);
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain("No job store exists at");
      expect(r.stderr).not.toMatch(NO_STACK);
    }
  }, 120_000);

  it("a file, or a directory that is not a store: exit 2 naming the problem", async () => {
    const file = path.join(tmp, "afile");
    fs.writeFileSync(file, "x");
    const dir = path.join(tmp, "adir");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "precious.txt"), "keep me");
    for (const cmd of commands) {
      const f = await toil(argsFor(cmd, file), tmp);
      expect(f.code, `${cmd[0]}: ${f.stderr}`).toBe(2);
      expect(f.stderr).toContain("is a file, not a job store");
      const d = await toil(argsFor(cmd, dir), tmp);
      expect(d.code, `${cmd[0]}: ${d.stderr}`).toBe(2);
      expect(d.stderr).toContain("not a job store");
    }
    const c = await toil(["clean", dir], tmp);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("not a job store");
    expect(fs.readFileSync(path.join(dir, "precious.txt"), "utf8")).toBe("keep me");
  }, 120_000);

  it("a store of a newer format version: exit 2, names the versions; --logDebug adds the stack", async () => {
    const store = await makeStore("newer");
    const format = JSON.parse(fs.readFileSync(path.join(store, "format.json"), "utf8")) as { version: number };
    fs.writeFileSync(path.join(store, "format.json"), JSON.stringify({ ...format, version: format.version + 1 }));
    for (const cmd of commands) {
      const r = await toil(argsFor(cmd, store), tmp);
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/newer toil-ts \(layout version \d+; this one reads up to \d+\)/);
      expect(r.stderr).not.toMatch(NO_STACK);
    }
    const debug = await toil(["status", store, "--logDebug"], tmp);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(NO_STACK);
  }, 120_000);

  it("bad options: exit 2 with commander's message", async () => {
    const r = await toil(["stats", tmp, "--sortCategory", "size"], tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Allowed choices are wall, cpu, wait, memory, disk, count, alpha");
    const k = await toil(["kill", tmp, "--timeout", "-3"], tmp);
    expect(k.code).toBe(2);
  }, 120_000);

  it("clean is idempotent and says when there is nothing to delete", async () => {
    const store = await makeStore("idem");
    const first = await toil(["clean", store], tmp);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Deleted the job store");
    expect(fs.existsSync(store)).toBe(false);
    const second = await toil(["clean", store], tmp);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Nothing to delete");
  }, 120_000);

  it("every command has --help with examples and exit codes", async () => {
    for (const cmd of ["run", "status", "stats", "report", "kill", "clean", "debug-job"]) {
      const r = await toil([cmd, "--help"], tmp);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain("Examples:");
      expect(r.stdout).toContain("Exit codes:");
    }
  }, 120_000);
});

describe("scenario 41: status, stats, report and clean around a failing, restarted workflow", () => {
  it("works", async () => {
    const store = path.join(tmp, "s41");
    const state = path.join(tmp, "s41-state");
    const bus = path.join(tmp, "s41-bus.jsonl");
    const flow = ["--", "sort", "5", state];
    // --restart on a missing store fails and creates nothing.
    const missing = await toil(["run", FLOW, "--jobStore", store, "--restart", ...flow], tmp);
    expect(missing.code).not.toBe(0);
    expect(fs.existsSync(store)).toBe(false);

    // merge fails on its first try; with --retryCount 0 the run fails and leaves the store.
    const first = await toil(["run", FLOW, "--jobStore", store, "--stats", "--retryCount", "0", "--writeMessages", bus, ...flow], tmp);
    expect(first.code).not.toBe(0);
    const st = await toil(["status", store], tmp);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain("FAILED");
    expect(st.stdout).toMatch(/1 failed for good/);
    expect((await toil(["status", store, "--failIfNotComplete"], tmp)).code).toBe(1);
    const logs = await toil(["status", store, "--logs"], tmp);
    expect(logs.stdout).toContain("merge: first try fails on purpose");
    const json = JSON.parse((await toil(["status", store, "--json", "--status"], tmp)).stdout) as {
      state: string;
      counts: { jobs: number; failed: number };
      running: unknown[];
    };
    expect(json.state).toBe("FAILED");
    expect(json.counts.failed).toBe(1);
    expect(json.running).toEqual([]);
    const dot = await toil(["status", store, "--dot"], tmp);
    expect(dot.stdout).toMatch(/^digraph toil_workflow \{/);
    expect(dot.stdout).toContain('[label="follow-on", style=dashed]');

    // Running again without --restart fails (the store exists).
    const again = await toil(["run", FLOW, "--jobStore", store, "--stats", ...flow], tmp);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("--restart");

    const restarted = await toil(["run", FLOW, "--jobStore", store, "--restart", "--stats", "--writeMessages", bus, ...flow], tmp);
    expect(restarted.code, restarted.stderr).toBe(0);
    const done = await toil(["status", store, "--failIfNotComplete"], tmp);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("COMPLETED");

    const stats = await toil(["stats", store], tmp);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/sortChunk: 5 runs/);
    expect(stats.stdout).toMatch(/setup: 1 run\b/);
    const raw = JSON.parse((await toil(["stats", store, "--raw", "--sortCategory", "alpha"], tmp)).stdout) as {
      jobs: number;
      kinds: { name: string; count: number }[];
    };
    expect(raw.kinds.map((k) => k.name)).toEqual([...raw.kinds.map((k) => k.name)].sort((a, b) => a.localeCompare(b)));
    expect(raw.kinds.find((k) => k.name === "sortChunk")?.count).toBe(5);

    const html = path.join(tmp, "s41.html");
    const rep = await toil(["report", store, "-o", html], tmp);
    expect(rep.code, rep.stderr).toBe(0);
    if (browserAvailable || browserRequired) {
      const chrome = await launchChromium();
      try {
        const seen = await inspectReport(chrome.context, html);
        expect(seen.consoleErrors).toEqual([]);
        expect(seen.externalRequests).toEqual([]);
        expect(seen.bars).toBe(raw.jobs);
        expect(seen.renderedBars).toBe(raw.jobs);
      } finally {
        await chrome.close();
      }
    }

    const clean = await toil(["clean", store], tmp);
    expect(clean.code).toBe(0);
    expect(fs.existsSync(store)).toBe(false);
  }, 300_000);
});

describe("scenario 96: debug-job reruns a failed job in the foreground", () => {
  it("prints Boom!, exits 1; --printJobInfo exits 0; the report shows the failed job", async () => {
    const store = path.join(tmp, "s96");
    const run = await toil(["run", FLOW, "--jobStore", store, "--retryCount", "0", "--", "boom", "2"], tmp);
    expect(run.code).not.toBe(0);
    const info = await toil(["debug-job", store, "explode", "--printJobInfo"], tmp);
    expect(info.code, info.stderr).toBe(0);
    const desc = JSON.parse(info.stdout) as { id: string; jobName: string; remainingTryCount?: number };
    expect(desc.remainingTryCount).toBe(0);
    const byId = await toil(["debug-job", store, desc.id], tmp);
    expect(byId.code).toBe(1);
    expect(byId.stdout + byId.stderr).toContain("Boom!");
    const byName = await toil(["debug-job", store, "explode"], tmp);
    expect(byName.stdout + byName.stderr).toContain("Boom!");
    const unknown = await toil(["debug-job", store, "no-such-job"], tmp);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--perJob");

    const html = path.join(tmp, "s96.html");
    expect((await toil(["report", store, "-o", html], tmp)).code).toBe(0);
    if (browserAvailable || browserRequired) {
      const chrome = await launchChromium();
      try {
        const seen = await inspectReport(chrome.context, html);
        expect(seen.consoleErrors).toEqual([]);
        expect(seen.failedIds).toContain(desc.id);
      } finally {
        await chrome.close();
      }
    }
    expect(fs.readFileSync(html, "utf8")).toContain("Boom!");
  }, 300_000);
});

describe("scenario 97: kill stops a running workflow; restart and clean work after", () => {
  it("works", async () => {
    const store = path.join(tmp, "s97");
    const leader = startToil(["run", FLOW, "--jobStore", store, "--", "sleep", "100"], tmp);
    const ended = finish(leader);
    await waitFor("the leader to take the store", async () => {
      const r = await toil(["status", store, "--json"], tmp);
      return r.code === 0 && (JSON.parse(r.stdout) as { state: string }).state === "RUNNING";
    });
    expect(fs.existsSync(path.join(store, "meta", "kill-flag")) ? fs.readFileSync(path.join(store, "meta", "kill-flag"), "utf8") : "NO").toBe("NO");
    // clean refuses while the leader runs.
    const refused = await toil(["clean", store], tmp);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("toil kill");
    expect(fs.existsSync(store)).toBe(true);

    const kill = await toil(["kill", store], tmp);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain("The workflow stopped");
    const result = await ended;
    expect(result.code).not.toBe(0);
    const st = await toil(["status", store], tmp);
    expect(st.stdout).toContain("STOPPED");
    const nothing = await toil(["kill", store], tmp);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain("nothing to stop");
    const clean = await toil(["clean", store], tmp);
    expect(clean.code).toBe(0);
    expect(fs.existsSync(store)).toBe(false);
  }, 300_000);
});
