/**
 * Every `toil` command works from the standalone bundle, as a user runs it: a copy of
 * dist/standalone outside the repository, no node_modules anywhere above it, only Node on PATH.
 * run, status, stats, report, kill, clean, debug-job, config, --version, and each command's --help.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { LEADER_DIR, tempDir } from "./helpers.js";

const FLOW = `import { Job } from "@toil/job";

export class Square extends Job {
  constructor(readonly n: number) { super({ cores: 0.1, memory: "32Mi", disk: "1Mi" }); }
  run(): number { return this.n * this.n; }
}

export class Explode extends Job {
  constructor() { super({ cores: 0.1, memory: "32Mi", disk: "1Mi" }); }
  run(): never { console.log("explode: about to fail"); throw new Error("Boom!"); }
}

export class Sleep extends Job {
  constructor() { super({ cores: 0.1, memory: "32Mi", disk: "1Mi" }); }
  async run(): Promise<string> { await new Promise((r) => setTimeout(r, 100_000)); return "slept"; }
}

export function sum(xs: number[]): number { return xs.reduce((a, b) => a + b, 0); }

export class Root extends Job {
  constructor(readonly mode: string) { super({ cores: 0.1, memory: "32Mi", disk: "1Mi" }); }
  run(): unknown {
    if (this.mode === "boom") this.addChild(new Explode());
    if (this.mode === "sleep") return this.addChild(new Sleep()).rv();
    return this.addFollowOnFn(sum, [1, 2, 3].map((n) => this.addChild(new Square(n)).rv())).rv();
  }
}

export default function main({ args }: { args: string[] }) { return new Root(args[0] ?? "ok"); }
`;

let dir: string;
let toilJs: string;

/** Only Node: PATH holds node's own directory, HOME is the temp dir. */
function env(): NodeJS.ProcessEnv {
  return { PATH: path.dirname(process.execPath), HOME: dir, NO_COLOR: "1" };
}

function toil(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [toilJs, ...args], { cwd: dir, encoding: "utf8", env: env(), timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const RUN = ["--disableProgress", "--clean", "never", "--retryCount", "0"];

beforeAll(() => {
  dir = tempDir("toil-standalone-cmds-");
  cpSync(path.join(LEADER_DIR, "dist", "standalone"), path.join(dir, "toil"), { recursive: true });
  toilJs = path.join(dir, "toil", "toil.js");
  expect(existsSync(path.join(dir, "toil", "node_modules"))).toBe(false);
  writeFileSync(path.join(dir, "flow.ts"), FLOW);
});

describe("the standalone bundle, copied outside the repository", () => {
  test("--version and every command's --help", () => {
    const version = JSON.parse(readFileSync(path.join(LEADER_DIR, "package.json"), "utf8")).version as string;
    for (const flag of ["--version", "-V"]) {
      const v = toil(flag);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout.trim()).toBe(version);
    }
    for (const cmd of [[], ["run"], ["status"], ["stats"], ["report"], ["kill"], ["clean"], ["debug-job"], ["config"]]) {
      const h = toil(...cmd, "--help");
      expect(h.code, `${cmd.join(" ")} --help: ${h.stderr}`).toBe(0);
      expect(h.stdout).toContain(`Usage: toil ${cmd.length ? `${cmd[0]} ` : ""}`);
      expect(h.stderr).toBe("");
    }
    // run's help and the config file carry every bundled batch system's options; toil --help lists commands.
    expect(toil("run", "--help").stdout).toMatch(/--warmWorkers[\s\S]*Slurm options:[\s\S]*--slurmAllocateMem/);
    expect(toil("help", "run").stdout).toContain("--slurmAllocateMem");
    expect(toil("--help").stdout).not.toContain("--slurmAllocateMem");
    const configFile = path.join(dir, "all-options.yaml");
    expect(toil("config", configFile).code).toBe(0);
    expect(readFileSync(configFile, "utf8")).toMatch(/warmWorkers[\s\S]*slurmAllocateMem/);
  });

  test("run, status, stats, report, debug-job, clean and config", () => {
    const store = path.join(dir, "js");
    const run = toil("run", "flow.ts", "--jobStore", store, "--stats", ...RUN);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("14");

    const status = toil("status", store);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("COMPLETED");

    const stats = toil("stats", store);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/Stats of 5 job runs /);

    const html = path.join(dir, "report.html");
    const report = toil("report", store, "-o", html);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`Wrote ${html}`);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("echarts.init(");
    expect(statSync(html).size).toBeGreaterThan(1_000_000); // the library is inlined: the page works offline

    const clean = toil("clean", store);
    expect(clean.code, clean.stderr).toBe(0);
    expect(existsSync(store)).toBe(false);

    const boom = path.join(dir, "boom");
    const failed = toil("run", "flow.ts", "--jobStore", boom, ...RUN, "--", "boom");
    expect(failed.code).toBe(1);
    const debug = toil("debug-job", boom, "Explode");
    expect(debug.code).toBe(1);
    expect(debug.stdout + debug.stderr).toContain("Boom!");
    expect(debug.stderr).toContain("Job Explode failed");

    const config = toil("config", "toil.yaml");
    expect(config.code, config.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "toil.yaml"), "utf8")).toContain("retryCount: 1");
    const withConfig = toil("run", "flow.ts", "--jobStore", path.join(dir, "js2"), "--config", "toil.yaml", "--disableProgress");
    expect(withConfig.code, withConfig.stderr).toBe(0);
  });

  test("kill stops a running workflow; status then says STOPPED", async () => {
    const store = path.join(dir, "sleeping");
    const leader = spawn(process.execPath, [toilJs, "run", "flow.ts", "--jobStore", store, ...RUN, "--", "sleep"], { cwd: dir, env: env(), stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => leader.on("exit", (code) => resolve(code)));
    const until = Date.now() + 120_000;
    while (!toil("status", store).stdout.includes("RUNNING")) {
      if (Date.now() > until) throw new Error("the leader never ran");
      await new Promise((r) => setTimeout(r, 200));
    }
    const kill = toil("kill", store);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain("The workflow stopped");
    expect(await exited).toBe(1);
    expect(toil("status", store).stdout).toContain("STOPPED");
  });
});
