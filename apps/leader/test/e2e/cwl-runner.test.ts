/**
 * `toil-cwl-runner` and `toil cwl` from the outside, as users run them: a CWL workflow from a
 * document and an input object, outputs in --outdir and JSON on stdout, the temporary job store
 * removed, tool inputs as flags, exit 33 for unsupported features, retries of temporary failures
 * only, `toil status` on a CWL run, and the standalone bundle.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { collect, startScript } from "@toil/test-support";
import { LEADER_DIR, requireBuild, runToil, tempDir, type RunResult } from "./helpers.js";

const CWL_RUNNER = path.join(LEADER_DIR, "dist", "cwl-runner.js");

/** Run `toil-cwl-runner <args>` (or another entry point) as a real process. */
function runCwl(args: readonly string[], options: { cwd: string; env?: Record<string, string>; entry?: string } ): Promise<RunResult> {
  requireBuild();
  return collect(startScript(options.entry ?? CWL_RUNNER, args, { cwd: options.cwd, env: options.env }), 180_000);
}

/** A two-step workflow: sort the lines of a file, then count them. */
function writeWorkflow(dir: string): void {
  writeFileSync(
    path.join(dir, "sort.cwl"),
    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: sort\ninputs:\n  reads: {type: File, inputBinding: {}}\noutputs:\n  sorted: stdout\nstdout: sorted.txt\n",
  );
  writeFileSync(
    path.join(dir, "count.cwl"),
    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [wc, -l]\nstdin: $(inputs.f.path)\ninputs:\n  f: File\noutputs:\n  n: {type: int, outputBinding: {glob: n.txt, loadContents: true, outputEval: '$(parseInt(self[0].contents))'}}\nstdout: n.txt\nrequirements: {InlineJavascriptRequirement: {}}\n",
  );
  writeFileSync(
    path.join(dir, "wf.cwl"),
    [
      "cwlVersion: v1.2",
      "class: Workflow",
      "inputs:",
      "  reads: File",
      "outputs:",
      "  sorted: {type: File, outputSource: sort/sorted}",
      "  lines: {type: int, outputSource: count/n}",
      "steps:",
      "  sort: {run: sort.cwl, in: {reads: reads}, out: [sorted]}",
      "  count: {run: count.cwl, in: {f: sort/sorted}, out: [n]}",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "reads.txt"), "c\na\nb\n");
  writeFileSync(path.join(dir, "job.yml"), "reads: {class: File, location: reads.txt}\n");
}

describe("toil-cwl-runner", { timeout: 240_000 }, () => {
  test("runs a workflow: outputs in --outdir, the output object on stdout, the temporary job store removed", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeWorkflow(dir);
    const tmp = tempDir("toil-cwl-tmp-");
    const r = await runCwl(["--outdir", "out", "--quiet", "wf.cwl", "job.yml"], { cwd: dir, env: { TMPDIR: tmp } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { sorted: { location: string; path: string; checksum: string; size: number }; lines: number };
    expect(out.lines).toBe(3);
    expect(out.sorted.path).toBe(path.join(dir, "out", "sorted.txt"));
    expect(out.sorted.location).toBe(`file://${path.join(dir, "out", "sorted.txt")}`);
    expect(readFileSync(out.sorted.path, "utf8")).toBe("a\nb\nc\n");
    expect(out.sorted.size).toBe(6);
    expect(out.sorted.checksum).toMatch(/^sha1\$[0-9a-f]{40}$/);
    // Nothing of the run's temporary job store is left (it is deleted in the background, right after the run).
    const deadline = Date.now() + 60_000;
    while (readdirSync(tmp).some((n) => n.startsWith("toil-cwl-")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(tmp).filter((n) => n.startsWith("toil-cwl-"))).toEqual([]);
  });

  test("`toil cwl` is the same command; tool inputs may be given as flags after the process", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeWorkflow(dir);
    const r = await runToil(["cwl", "--outdir", path.join(dir, "o"), "--quiet", path.join(dir, "wf.cwl"), "--reads", path.join(dir, "reads.txt")], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).lines).toBe(3);
    const help = await runToil(["cwl", "--help"], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: toil cwl \[options\] PROCESS \[JOB_ORDER\][\s\S]*Examples:[\s\S]*Exit codes:[\s\S]*33 /);
    const bad = await runToil(["cwl", "--quiet", path.join(dir, "wf.cwl"), "--nope", "x"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Unknown input --nope \(the process's inputs are: --reads\)/);
  });

  test("a feature the runner does not support exits 33 with a one-line reason, before any job store exists", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeFileSync(
      path.join(dir, "unknown.cwl"),
      "cwlVersion: v1.2\nclass: CommandLineTool\n$namespaces: {ex: 'http://example.com/cwl#'}\nrequirements: [{class: 'ex:Teleporter'}]\nbaseCommand: echo\ninputs: {x: string}\noutputs: []\n",
    );
    const js = path.join(dir, "js");
    const r = await runCwl(["--jobStore", js, "--quiet", "unknown.cwl", "--x", "a"], { cwd: dir });
    expect(r.code).toBe(33);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/not supported/);
    expect(existsSync(js)).toBe(false);
  });

  test("a temporary failure code is retried; a permanent failure is not, whatever --retryCount says", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    const script = (code: string) =>
      `cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {ShellCommandRequirement: {}}\ninputs: {log: string}\noutputs: []\ntemporaryFailCodes: [42]\narguments: [{valueFrom: '${code}', shellQuote: false}]\n`;
    // Exits 42 (temporary) on its first try, 0 on the next.
    writeFileSync(path.join(dir, "flaky.cwl"), script("echo try >> $(inputs.log); test \\$(wc -l < $(inputs.log)) -ge 2 || exit 42"));
    writeFileSync(path.join(dir, "broken.cwl"), script("echo try >> $(inputs.log); exit 3"));
    const flakyLog = path.join(dir, "flaky.log");
    const ok = await runCwl(["--quiet", "--retryCount", "3", "--retryBackoffSeconds", "0", "flaky.cwl", "--log", flakyLog], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(flakyLog, "utf8")).toBe("try\ntry\n");
    const brokenLog = path.join(dir, "broken.log");
    const failed = await runCwl(["--quiet", "--retryCount", "3", "--retryBackoffSeconds", "0", "broken.cwl", "--log", brokenLog], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/CwlPermanentFailureError/);
    expect(readFileSync(brokenLog, "utf8")).toBe("try\n");
  });

  test("a CWL run is a toil-ts workflow: `toil status` and `toil stats` read its job store", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeWorkflow(dir);
    const js = path.join(dir, "js");
    const r = await runCwl(["--jobStore", js, "--clean", "never", "--stats", "--quiet", "--outdir", "out", "wf.cwl", "job.yml"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const status = await runToil(["status", js], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/completed|succeeded|done/i);
    const stats = await runToil(["stats", js], { cwd: dir });
    expect(stats.code, stats.stderr).toBe(0);
    // Grouped by what ran (the tools), not by the runner's job classes.
    expect(stats.stdout).toMatch(/^sort: 1 run/m);
    expect(stats.stdout).toMatch(/^count: 1 run/m);
    expect(stats.stdout).not.toMatch(/CwlStepJob|CwlWorkflowJob/);
  });
});

describe("toil-cwl-runner: scatter, conditions and expressions", { timeout: 300_000 }, () => {
  /** Scatter a tool over `xs` (one job each), skip the items `when` rejects, gather the rest. */
  function writeScatter(dir: string, valueFrom: string, when: string): void {
    writeFileSync(
      path.join(dir, "shout.cwl"),
      "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  word: {type: string, inputBinding: {}}\noutputs:\n  said: {type: string, outputBinding: {glob: said.txt, loadContents: true, outputEval: '$(self[0].contents.trim())'}}\nstdout: said.txt\nrequirements: {InlineJavascriptRequirement: {}}\n",
    );
    writeFileSync(
      path.join(dir, "wf.cwl"),
      [
        "cwlVersion: v1.2",
        "class: Workflow",
        "requirements: {ScatterFeatureRequirement: {}, StepInputExpressionRequirement: {}, InlineJavascriptRequirement: {}}",
        "inputs: {xs: 'string[]'}",
        "outputs:",
        "  said: {type: 'string[]', outputSource: shout/said, pickValue: all_non_null}",
        "steps:",
        "  shout:",
        "    run: shout.cwl",
        "    scatter: word",
        `    in: {word: {source: xs, valueFrom: ${JSON.stringify(valueFrom)}}}`,
        `    when: ${JSON.stringify(when)}`,
        "    out: [said]",
      ].join("\n"),
    );
    writeFileSync(path.join(dir, "job.yml"), "xs: [a, bb, c, dd]\n");
  }

  test("a scatter is one job per item and a gather; 'when' skips items; status and stats name the steps and the tool", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeScatter(dir, "$(self.toUpperCase())", "$(inputs.word.length == 2)");
    const js = path.join(dir, "js");
    const r = await runCwl(["--jobStore", js, "--clean", "never", "--stats", "--quiet", "--outdir", "out", "wf.cwl", "job.yml"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ said: ["BB", "DD"] });
    const stats = await runToil(["stats", js], { cwd: dir });
    expect(stats.code, stats.stderr).toBe(0);
    // Two scatter jobs ran the tool (the others were skipped before any job existed), one added them, one gathered.
    expect(stats.stdout).toMatch(/^shout: 2 runs/m);
    expect(stats.stdout).toMatch(/^shout scatter: 1 run/m);
    expect(stats.stdout).toMatch(/^shout gather: 1 run/m);
    expect(stats.stdout).not.toMatch(/Cwl\w+Job/);
  });

  test("an expression that throws fails its step, naming the step, the expression and the error", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeScatter(dir, "${ if (self == 'c') throw new Error('no c here'); return self; }", "$(true)");
    const r = await runCwl(["--quiet", "--outdir", "out", "wf.cwl", "job.yml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'shout' \(scatter job 3 of 4\) input 'word' valueFrom: Expression \$\{ if \(self == 'c'\) throw new Error\('no c here'\); return self; \} failed: no c here/);
  });

  test("an expression that loops is stopped at --eval-timeout and fails its step", async () => {
    const dir = tempDir("toil-cwl-e2e-");
    writeScatter(dir, "$(self)", "${ while (inputs.word != 'never') {} return true; }");
    const started = Date.now();
    const r = await runCwl(["--quiet", "--eval-timeout", "1", "--outdir", "out", "wf.cwl", "job.yml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 'shout' \(scatter job 1 of 4\) when: Expression \$\{ while \(inputs\.word != 'never'\) \{\} return true; \} failed: it ran longer than the time limit of 1 s and was stopped/);
    // Stopped at the limit, not at the 30 s default.
    expect(Date.now() - started).toBeLessThan(25_000);
  });
});

test("the standalone bundle's toil-cwl-runner.js runs a CWL workflow with only Node", { timeout: 240_000 }, async () => {
  const d = tempDir("toil-cwl-standalone-");
  const app = path.join(d, "app");
  cpSync(path.join(LEADER_DIR, "dist", "standalone"), app, { recursive: true });
  writeWorkflow(d);
  const r = await runCwl(["--outdir", "out", "--quiet", "wf.cwl", "job.yml"], { cwd: d, entry: path.join(app, "toil-cwl-runner.js"), env: { PATH: process.env.PATH ?? "", HOME: d } });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).lines).toBe(3);
});
