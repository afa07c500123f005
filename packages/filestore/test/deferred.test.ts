/**
 * Scenario 91: deferred functions run after the job, also after the worker was SIGKILLed (by the
 * next worker on the machine or by worker cleanup), exactly once even with concurrent claimants.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serializeValue, type DeferredFunctionRef } from "@toil/job";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeferredFunctionManager } from "../src/index.js";
import { makeTempDir } from "../src/testing/index.js";
import { bundleChild } from "./helpers/bundle.js";
import { runChild, type ChildOutput } from "./helpers/child.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fnModule = pathToFileURL(path.join(here, "fixtures", "deferred-fns.mjs")).href;
let bundle: string;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir("toil-deferred-");
  bundle = await bundleChild(path.join(here, "fixtures", "deferred-child.ts"), dir);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function ref(exportName: string, ...args: unknown[]): DeferredFunctionRef {
  return { module: fnModule, exportName, args: serializeValue(args), name: exportName };
}

function child(args: string[], until?: string): Promise<ChildOutput> {
  return runChild(bundle, args, until);
}

/** A fresh state dir with one orphan left by a SIGKILLed worker (one appendLine + one deleteFile). */
async function orphan(): Promise<{ base: string; counter: string; victim: string }> {
  const base = fs.mkdtempSync(path.join(dir, "node-"));
  const counter = path.join(base, "counter.txt");
  const victim = path.join(base, "victim.txt");
  fs.writeFileSync(victim, "x");
  const c = await child([base, "register-and-wait", fnModule, counter, victim], "registered");
  await c.kill();
  expect(fs.existsSync(victim)).toBe(true); // nothing ran yet
  return { base, counter, victim };
}

const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

describe("DeferredFunctionManager (scenario 91)", () => {
  it("runs a job's deferred functions after it, in order, on success and on failure", async () => {
    const base = fs.mkdtempSync(path.join(dir, "inproc-"));
    const counter = path.join(base, "c.txt");
    const f1 = path.join(base, "f1");
    const f2 = path.join(base, "f2");
    fs.writeFileSync(f1, "");
    fs.writeFileSync(f2, "");
    const logged: string[] = [];
    const mgr = new DeferredFunctionManager(base, { log: (m) => logged.push(m) });
    const result = await mgr.runJob(async (register) => {
      register(ref("deleteFile", f1));
      register(ref("fail"));
      register(ref("appendLine", counter, "one"));
      expect(fs.existsSync(f1)).toBe(true);
      return 7;
    });
    expect(result).toBe(7);
    expect(fs.existsSync(f1)).toBe(false);
    expect(lines(counter)).toEqual(["one"]);
    expect(logged.join("\n")).toContain("deferred failure on purpose");
    await expect(
      mgr.runJob(async (register) => {
        register(ref("deleteFile", f2));
        throw new Error("job failed");
      }),
    ).rejects.toThrow("job failed");
    expect(fs.existsSync(f2)).toBe(false);
    mgr.close();
    expect(fs.readdirSync(path.join(base, "deferred"))).toEqual([]);
  });

  it("a SIGKILLed worker's functions are run by the next job start on the node, exactly once", async () => {
    const { base, counter, victim } = await orphan();
    const mgr = new DeferredFunctionManager(base);
    let sawVictim = true;
    await mgr.runJob(async () => {
      sawVictim = fs.existsSync(victim);
    });
    expect(sawVictim).toBe(false); // orphans run before the next job's body
    expect(lines(counter)).toEqual(["ran"]);
    expect(await mgr.runOrphans()).toBe(0);
    mgr.close();
    expect(lines(counter)).toEqual(["ran"]);
  });

  it("worker cleanup at shutdown runs orphans; a live worker's functions are left alone", async () => {
    const { base, counter } = await orphan();
    const liveCounter = path.join(base, "live.txt");
    const live = await child([base, "register-and-wait", fnModule, liveCounter, path.join(base, "nothing")], "registered");
    try {
      expect(await DeferredFunctionManager.cleanupWorker(base)).toBe(2);
      expect(lines(counter)).toEqual(["ran"]);
      expect(lines(liveCounter)).toEqual([]);
      expect(await DeferredFunctionManager.cleanupWorker(base)).toBe(0);
    } finally {
      await live.kill();
    }
    expect(await DeferredFunctionManager.cleanupWorker(base)).toBe(2);
    expect(lines(liveCounter)).toEqual(["ran"]);
  });

  it("concurrent workers claiming the same orphans run each function once", async () => {
    const { base, counter } = await orphan();
    const second = await orphan();
    // Move the second orphan's state into the same node dir, so there are two orphans.
    for (const f of fs.readdirSync(path.join(second.base, "deferred"))) {
      fs.renameSync(path.join(second.base, "deferred", f), path.join(base, "deferred", f));
    }
    const results = await Promise.all([1, 2, 3].map(() => child([base, "claim", fnModule])));
    const claimed = results.map((r) => Number(/claimed (\d+)/.exec(r.out)?.[1] ?? -1));
    expect(claimed.reduce((a, b) => a + b, 0)).toBe(4);
    expect(lines(counter)).toEqual(["ran"]);
    expect(lines(second.counter)).toEqual(["ran"]);
  });
});
