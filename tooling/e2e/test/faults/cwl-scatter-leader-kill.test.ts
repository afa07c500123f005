/**
 * A CWL scatter of 1,000 steps is 1,000 jobs of the engine, each committed on its own: SIGKILL the
 * leader once a few hundred have run, let the workers it leaves stop, then `toil cwl --restart`
 * finishes the scatter. Which scatter jobs had completed is what the job store says before the
 * restart (`toil status --perJob --json`: the jobs left are named `step[i]`). Every scatter job
 * journals its runs (`start i`, `end i`): no completed job runs again, every item runs to its end,
 * and the gathered output is every item, in order. (A job whose tool had ended but whose result was
 * not committed when its worker stopped is not completed: it runs again.)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { runToil, tempDir } from "../../src/index.js";
import { alive, processesWithEnv, runToilDetached, until, workflowMarker } from "./process-common.js";

const ITEMS = 1000;
const KILL_AFTER = 300;

function writeWorkflow(dir: string): void {
  writeFileSync(
    path.join(dir, "wf.cwl"),
    [
      "cwlVersion: v1.2",
      "class: Workflow",
      "requirements: {ScatterFeatureRequirement: {}, InlineJavascriptRequirement: {}}",
      "inputs: {log: string, items: 'int[]'}",
      "outputs: {seen: {type: 'int[]', outputSource: step/seen}}",
      "steps:",
      "  step:",
      "    run:",
      "      class: CommandLineTool",
      "      requirements: {ShellCommandRequirement: {}}",
      "      inputs: {log: string, i: int}",
      "      outputs: {seen: {type: int, outputBinding: {glob: seen.txt, loadContents: true, outputEval: '$(parseInt(self[0].contents))'}}}",
      "      arguments: [{valueFrom: 'echo start $(inputs.i) >> $(inputs.log); echo $(inputs.i) > seen.txt; echo end $(inputs.i) >> $(inputs.log)', shellQuote: false}]",
      "    scatter: i",
      "    in: {log: log, i: items}",
      "    out: [seen]",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "job.json"), JSON.stringify({ log: path.join(dir, "journal"), items: Array.from({ length: ITEMS }, (_, i) => i) }));
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
const count = (all: string[], prefix: string): Map<number, number> => {
  const m = new Map<number, number>();
  for (const l of all) if (l.startsWith(prefix)) m.set(Number(l.slice(prefix.length)), (m.get(Number(l.slice(prefix.length))) ?? 0) + 1);
  return m;
};

describe("CWL: leader SIGKILL in the middle of a scatter of 1,000, then --restart", () => {
  test("finishes the scatter; no scatter job that finished runs again", { timeout: 600_000 }, async () => {
    const d = tempDir("toil-cwl-scatter-kill-");
    writeWorkflow(d);
    const js = path.join(d, "js");
    const journal = path.join(d, "journal");
    const common = ["--jobStore", js, "--quiet", "--outdir", path.join(d, "out")];

    const first = await runToilDetached(["cwl", ...common, path.join(d, "wf.cwl"), path.join(d, "job.json")], d, (child) => {
      const poll = setInterval(() => {
        if (lines(journal).filter((l) => l.startsWith("end ")).length >= KILL_AFTER) {
          clearInterval(poll);
          child.kill("SIGKILL");
        }
      }, 20);
      child.on("exit", () => clearInterval(poll));
    });
    expect(first.signal, `${first.stderr}\n${lines(journal).slice(-5).join("\n")}`).toBe("SIGKILL");
    // The workers the leader leaves finish the jobs they hold (or give up); wait until none is left.
    const marker = workflowMarker(js);
    await until(() => processesWithEnv(marker).filter(alive).length === 0, 100);
    const before = lines(journal);
    const status = await runToil(["status", js, "--perJob", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const left = new Set<number>();
    for (const job of (JSON.parse(status.stdout) as { jobs: { name: string; state: string }[] }).jobs) {
      const m = /^step\[(\d+)\]/.exec(job.name);
      if (m && job.state !== "done") left.add(Number(m[1]));
    }
    const finished = new Set(Array.from({ length: ITEMS }, (_, i) => i).filter((i) => !left.has(i)));
    expect(finished.size).toBeGreaterThanOrEqual(KILL_AFTER - 10);
    expect(finished.size).toBeLessThan(ITEMS);
    // Completed jobs are among those whose tool ran to its end.
    const ended = new Set(count(before, "end ").keys());
    expect([...finished].filter((i) => !ended.has(i))).toEqual([]);

    const second = await runToilDetached(["cwl", ...common, "--restart", path.join(d, "wf.cwl"), path.join(d, "job.json")], d);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ seen: Array.from({ length: ITEMS }, (_, i) => i) });

    const after = lines(journal).slice(before.length);
    const rerun = [...count(after, "start ").keys()].filter((i) => finished.has(i));
    expect(rerun, `scatter jobs that had finished ran again after --restart: ${rerun.slice(0, 20).join(", ")}`).toEqual([]);
    // Every item ran to its end; an item ran again only if its job had not completed.
    const ends = count([...before, ...after], "end ");
    expect(ends.size).toBe(ITEMS);
    expect([...ends].filter(([i, n]) => n > 1 && finished.has(i))).toEqual([]);
    await until(() => processesWithEnv(marker).filter(alive).length === 0, 100);
  });
});
