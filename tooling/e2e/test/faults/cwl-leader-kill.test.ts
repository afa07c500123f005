/**
 * A CWL run is a toil-ts workflow like any other: SIGKILL the leader of a three-step CWL workflow
 * while its second step runs, then `toil cwl --restart --jobStore ...` finishes it. Every step
 * journals its runs: the first step (finished before the kill) never runs again, the third runs
 * once, and the output is right.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { tempDir } from "../../src/index.js";
import { alive, processesWithEnv, runToilDetached, until, workflowMarker } from "./process-common.js";

function step(name: string, body: string): string {
  return [
    `  ${name}:`,
    "    run:",
    "      class: CommandLineTool",
    "      requirements: {ShellCommandRequirement: {}}",
    "      inputs: {log: string, prev: File?}",
    `      outputs: {out: {type: File, outputBinding: {glob: ${name}.txt}}}`,
    `      arguments: [{valueFrom: 'echo start ${name} >> $(inputs.log); ${body}; echo end ${name} >> $(inputs.log)', shellQuote: false}]`,
  ].join("\n");
}

function writeWorkflow(dir: string): void {
  writeFileSync(
    path.join(dir, "wf.cwl"),
    [
      "cwlVersion: v1.2",
      "class: Workflow",
      "inputs: {log: string}",
      "outputs: {result: {type: File, outputSource: three/out}}",
      "steps:",
      step("one", "echo 1 > one.txt"),
      "    in: {log: log}",
      "    out: [out]",
      step("two", "sleep 3; cat $(inputs.prev.path) > two.txt; echo 2 >> two.txt"),
      "    in: {log: log, prev: one/out}",
      "    out: [out]",
      step("three", "cat $(inputs.prev.path) > three.txt; echo 3 >> three.txt"),
      "    in: {log: log, prev: two/out}",
      "    out: [out]",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "job.yml"), `log: ${path.join(dir, "journal")}\n`);
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

describe("CWL: leader SIGKILL in the middle of a workflow, then --restart", () => {
  test("finishes without rerunning completed steps", { timeout: 300_000 }, async () => {
    const d = tempDir("toil-cwl-kill-");
    writeWorkflow(d);
    const js = path.join(d, "js");
    const journal = path.join(d, "journal");
    const common = ["--jobStore", js, "--quiet", "--outdir", path.join(d, "out")];

    let killedAt: string[] = [];
    const first = await runToilDetached(["cwl", ...common, path.join(d, "wf.cwl"), path.join(d, "job.yml")], d, (child) => {
      const poll = setInterval(() => {
        if (lines(journal).includes("start two")) {
          clearInterval(poll);
          killedAt = lines(journal);
          child.kill("SIGKILL");
        }
      }, 20);
      child.on("exit", () => clearInterval(poll));
    });
    expect(first.signal, `${first.stderr}\n${lines(journal).join("\n")}`).toBe("SIGKILL");
    expect(killedAt).toContain("end one");
    expect(killedAt).not.toContain("start three");
    const marker = workflowMarker(js);

    const second = await runToilDetached(["cwl", ...common, "--restart", path.join(d, "wf.cwl"), path.join(d, "job.yml")], d);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { result: { path: string } };
    expect(readFileSync(result.result.path, "utf8")).toBe("1\n2\n3\n");

    const runs = lines(journal);
    expect(runs.filter((l) => l === "start one")).toHaveLength(1);
    expect(runs.filter((l) => l === "start three")).toHaveLength(1);
    expect(runs.filter((l) => l === "end two").length).toBeGreaterThanOrEqual(1);
    // No worker of the workflow is left behind.
    await until(() => processesWithEnv(marker).filter(alive).length === 0, 100);
  });
});
