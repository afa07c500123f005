/**
 * Places where a workflow that works on Toil broke or behaved differently here, each through the
 * real `toil` CLI with real worker processes. Workflows: test/fixtures/fidelity.ts.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { getPIDStatus, getStatus } from "../../src/index.js";
import { FIXTURES, LEADER_DIR, SMALL, TOIL_CLI, runToil, tempDir } from "./helpers.js";

const FLOW = path.join(FIXTURES, "fidelity.ts");

function run(scenario: string, args: string[], options: string[] = [], js = path.join(tempDir(), "js")) {
  return { js, result: runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--retryBackoffSeconds", "0", ...options, "--", scenario, ...args]) };
}

/** Every path under `dir`, relative to it. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      out.push(path.relative(dir, p));
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a job too big for the machine, and --scale", { timeout: 300_000 }, () => {
  const cpus = availableParallelism();

  test("--scale is applied before --maxCores is checked: a 3-core job runs with --maxCores 2 --scale 0.5", async () => {
    const maxCores = Math.min(2, cpus);
    const { result } = run("bigChild", [String(maxCores * 1.5)], ["--maxCores", String(maxCores), "--scale", "0.5"]);
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ran with ${maxCores * 1.5} cores requested`);
  });

  test("on the root job: exit 2, no job store, and advice that is true on this machine", async () => {
    const { js, result } = run("bigRoot", [String(cpus * 2)], ["--maxCores", String(cpus * 4)]);
    const r = await result;
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(js), "nothing ran, so no store is left").toBe(false);
    expect(r.stderr).toContain("error [InsufficientSystemResources]");
    expect(r.stderr).toContain(`this machine has ${cpus} CPU`);
    expect(r.stderr).toContain("whatever --maxCores says");
    expect(r.stderr).toMatch(/cluster batch system/);
    expect(r.stderr, "--maxCores above the CPU count is capped: do not advise raising it").not.toMatch(/Raise --maxCores|higher --maxCores|raise the batch system's limit/);
    expect(r.stderr).toContain("Nothing ran and no job store was left behind");
  });

  test("found after other jobs ran: exit 1, store kept, and the fix it names lets --restart finish", async () => {
    const { js, result } = run("bigChild", [String(cpus * 2)]);
    const r = await result;
    expect(r.code, r.stderr).toBe(1);
    expect(existsSync(path.join(js, "format.json")), "the store is kept").toBe(true);
    expect(r.stderr).toContain(`The job store ${js} was kept`);
    expect(r.stderr).toMatch(/toil run … --restart` and a new --scale/);
    const scale = /--scale ([\d.]+)/.exec(r.stderr)?.[1];
    expect(scale, r.stderr).toBeDefined();
    const again = await runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--restart", "--scale", scale!]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`ran with ${cpus * 2} cores requested`);
  });
});

describe("--cleanWorkDir", { timeout: 300_000 }, () => {
  const cases = [
    ["always", "ok", false],
    ["always", "fail", false],
    ["onSuccess", "ok", false],
    ["onSuccess", "fail", true],
    ["onError", "ok", true],
    ["onError", "fail", false],
    ["never", "ok", true],
    ["never", "fail", true],
  ] as const;

  test.for(cases)("%s after a job that ends %s: the worker's temp data kept = %s, nothing else of the run left", async ([policy, outcome, kept]) => {
    const workDir = tempDir("toil-workdir-");
    const { result } = run("tempData", [outcome], ["--workDir", workDir, "--cleanWorkDir", policy, "--retryCount", "0"]);
    const r = await result;
    expect(r.code, r.stderr).toBe(outcome === "ok" ? 0 : 1);
    const left = tree(workDir);
    if (kept) {
      expect(left.some((p) => /\/worker-[^/]+\/job-0\/kept-[0-9a-f]+\.txt$/.test(p)), left.join("\n")).toBe(true);
    } else {
      expect(left, "nothing of the run is left in --workDir").toEqual([]);
    }
    rmSync(workDir, { recursive: true, force: true });
  });

  test("with --debugWorker (jobs inside the leader) too", async () => {
    const workDir = tempDir("toil-workdir-");
    const r = await run("tempData", ["ok"], ["--workDir", workDir, "--debugWorker"]).result;
    expect(r.code, r.stderr).toBe(0);
    expect(tree(workDir)).toEqual([]);
  });
});

describe("Toil's status functions", { timeout: 300_000 }, () => {
  test.for([
    ["ok", "COMPLETED"],
    ["fail", "ERROR"],
  ] as const)("getStatus / getPIDStatus while a workflow that ends %s runs and after (%s)", async ([outcome, final]) => {
    const dir = tempDir();
    const js = path.join(dir, "js");
    const release = path.join(dir, "release");
    expect(await getStatus(js)).toBe("QUEUED");
    expect(await getPIDStatus(js)).toBe("QUEUED");
    const { result } = run("waitFor", [release, outcome], ["--clean", "never", "--retryCount", "0"], js);
    await until("RUNNING", async () => (await getPIDStatus(js)) === "RUNNING");
    expect(await getStatus(js)).toBe("RUNNING");
    writeFileSync(release, "");
    const r = await result;
    expect(r.code, r.stderr).toBe(outcome === "ok" ? 0 : 1);
    expect(await getStatus(js)).toBe(final);
    expect(await getPIDStatus(js)).toBe("COMPLETED");
    // A path and a file: locator name the same store.
    expect(await getStatus(`file:${js}`)).toBe(final);
  });

  test("a leader killed with SIGKILL: getStatus ERROR, getPIDStatus COMPLETED", async () => {
    const dir = tempDir();
    const js = path.join(dir, "js");
    const release = path.join(dir, "release");
    const child = spawn(process.execPath, [TOIL_CLI, "run", FLOW, "--jobStore", js, ...SMALL, "--", "waitFor", release], {
      cwd: LEADER_DIR,
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.on("close", r));
    await until("the job to start", async () => existsSync(`${release}.started`));
    expect(await getStatus(js)).toBe("RUNNING");
    child.kill("SIGKILL");
    await exited;
    expect(await getStatus(js)).toBe("ERROR");
    expect(await getPIDStatus(js)).toBe("COMPLETED");
    // Release the job, and let a restart stop the worker the killed leader left and finish.
    writeFileSync(release, "");
    const again = await runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--restart", "--clean", "never"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await getStatus(js)).toBe("COMPLETED");
  });
});

describe("job API fidelity, through real workers", { timeout: 300_000 }, () => {
  test("fileStore.jobStore reaches shared files and the configuration", async () => {
    const r = await run("sharedFiles", []).result;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("written same workflow");
  });

  test("function jobs with options (name, requirements, checkpoint) around a NoopJob join", async () => {
    const marks = path.join(tempDir(), "marks");
    const r = await run("joinGraph", [marks]).result;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toBe("after left,right");
  });

  test("FileID.size in a promised disk requirement (Toil's x.size + y.size)", async () => {
    const r = await run("fileSizes", []).result;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([1024, 512, 1536]);
  });

  test("readGlobalFile of an id not in the store is a NoSuchFileError, whatever the id looks like", async () => {
    const r = await run("readsMissing", []).result;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["bogus: NoSuchFileError true", "0:-:f/abcdefghijklmnop/never-written.txt: NoSuchFileError true"]);
  });
});

describe("--restart and fault injection", { timeout: 300_000 }, () => {
  test("--badWorker of the first run does not carry over to --restart", async () => {
    const { js, result } = run("quick", [], ["--badWorker", "1", "--badWorkerFailInterval", "0", "--retryCount", "0"]);
    const r = await result;
    expect(r.code, r.stderr).toBe(1);
    const again = await runToil(["run", FLOW, "--jobStore", js, ...SMALL, "--restart"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toBe("done");
  });

  test("toil run --help says which options a restart keeps", async () => {
    const r = await runToil(["run", "--help"]);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--badWorker, --badWorkerFailInterval, --debugWorker and --disableWorkerOutputCapture apply only to the run that gives them");
  });
});
