/**
 * A CWL workflow on a real Slurm cluster (CI starts a single-node one): `toil-cwl-runner
 * --batchSystem slurm` runs a scatter of 20 on Slurm jobs (worker hosts, the default) that ask
 * Slurm for the step's ResourceRequirement, and gives the same output object as on the single
 * machine.
 *
 * Without `sbatch` on PATH the test is skipped with the reason in its name, unless
 * TOIL_TEST_REQUIRE_SLURM=1 (CI), where that is a failure (the gate is @toil/batch-slurm/testing).
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeSlurm } from "@toil/batch-slurm/testing";
import { expect, it } from "vitest";
import { collect, startScript } from "@toil/test-support";
import { LEADER_DIR, requireBuild, tempDir, type RunResult } from "./e2e/helpers.js";

const CWL_RUNNER = path.join(LEADER_DIR, "dist", "cwl-runner.js");
const ITEMS = 20;
const RAM_MIB = 300;

function runCwl(args: readonly string[], cwd: string): Promise<RunResult> {
  requireBuild();
  return collect(startScript(CWL_RUNNER, args, { cwd }), 420_000);
}

/** Memory (MiB) and CPUs each Slurm job of ours asks for, by `--comment` tag; empty when squeue fails. */
function ourJobRequests(tag: string): { mem: number; cpus: number }[] {
  const res = spawnSync("squeue", ["-h", "-r", "-O", "Comment:|,MinMemory:|,NumCPUs:|"], { encoding: "utf8" });
  if (res.status !== 0) return [];
  const out: { mem: number; cpus: number }[] = [];
  for (const line of res.stdout.split("\n")) {
    const [comment, mem, cpus] = line.split("|").map((s) => s.trim());
    if (comment !== tag || !mem) continue;
    const m = /^(\d+(?:\.\d+)?)([KMGT]?)/.exec(mem);
    if (!m) continue;
    const factor = { "": 1, K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[m[2] as "" | "K" | "M" | "G" | "T"];
    out.push({ mem: Number(m[1]) * factor, cpus: Number(cpus) });
  }
  return out;
}

function writeWorkflow(dir: string): void {
  writeFileSync(
    path.join(dir, "wf.cwl"),
    [
      "cwlVersion: v1.2",
      "class: Workflow",
      "requirements: {ScatterFeatureRequirement: {}}",
      "inputs: {items: 'int[]'}",
      "outputs: {items: {type: 'File[]', outputSource: echo/out}}",
      "steps:",
      "  echo:",
      "    run:",
      "      class: CommandLineTool",
      `      requirements: {ResourceRequirement: {coresMin: 1, ramMin: ${RAM_MIB}}}`,
      "      inputs: {i: int}",
      "      outputs: {out: stdout}",
      "      stdout: item.txt",
      "      baseCommand: [echo, item]",
      "      arguments: [$(inputs.i)]",
      "    scatter: i",
      "    in: {i: items}",
      "    out: [out]",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "job.json"), JSON.stringify({ items: Array.from({ length: ITEMS }, (_, i) => i) }));
}

describeSlurm("slurm (real cluster): a CWL workflow through toil-cwl-runner", () => {
  it(`a scatter of ${ITEMS} runs as Slurm jobs that ask for the step's ResourceRequirement, with the single machine's output`, { timeout: 900_000 }, async () => {
    const dir = tempDir("toil-slurm-cwl-");
    writeWorkflow(dir);
    const local = await runCwl(["--quiet", "--outdir", path.join(dir, "out-local"), "wf.cwl", "job.json"], dir);
    expect(local.code, local.stderr).toBe(0);

    const tag = `toil-cwl-e2e-${randomUUID()}`;
    const seen: { mem: number; cpus: number }[] = [];
    const poll = setInterval(() => seen.push(...ourJobRequests(tag)), 250);
    const slurm = await runCwl(
      [
        "--quiet",
        "--outdir",
        path.join(dir, "out-slurm"),
        "--jobStore",
        path.join(dir, "js"),
        "--batchSystem",
        "slurm",
        "--batchLogsDir",
        path.join(dir, "logs"),
        "--statePollingWait",
        "0.5",
        "--slurmArgs",
        `--comment=${tag}`,
        "wf.cwl",
        "job.json",
      ],
      dir,
    ).finally(() => clearInterval(poll));
    expect(slurm.code, slurm.stderr).toBe(0);

    const contents = (out: string): string[] => (JSON.parse(out) as { items: { path: string }[] }).items.map((f) => readFileSync(f.path, "utf8"));
    expect(contents(slurm.stdout)).toEqual(Array.from({ length: ITEMS }, (_, i) => `item ${i}\n`));
    expect(contents(slurm.stdout)).toEqual(contents(local.stdout));
    // The scatter's steps went through Slurm, asking for the step's memory and cores.
    expect(seen.length, "no Slurm job of this run was ever seen in squeue").toBeGreaterThan(0);
    expect(seen.some((r) => r.mem >= RAM_MIB && r.cpus >= 1), JSON.stringify(seen.slice(0, 10))).toBe(true);
    expect(ourJobRequests(tag)).toEqual([]);
  });
});
