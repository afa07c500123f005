/**
 * The Slurm side of worker hosts: submitting a job array of hosts, reading their states, and
 * reading what Slurm wrote about a host.
 */
import { readFileSync } from "node:fs";
import type { SlurmContext } from "../context.js";
import type { SbatchResult, SlurmCommands } from "../slurm-commands.js";
import { singleQuote } from "@toil/batch-core";
import { jobOutcome, type SlurmJobRecord } from "../state.js";
import { arraySbatchArgs, arraySlurmLog, type LogNaming } from "../submission.js";
import type { HostShape } from "./shapes.js";
import type { Host } from "./types.js";

/** Submits `n` hosts of a shape as one job array; each task runs the host script on `dir`. */
export function submitHostArray(
  ctx: SlurmContext,
  dir: string,
  shape: HostShape,
  n: number,
  hostScript: string,
  batchNumber: number,
): Promise<SbatchResult> {
  const args = arraySbatchArgs({
    namePrefix: "toil_host",
    nameId: batchNumber,
    nameKind: "workers",
    tasks: n,
    resourceArgs: shape.args,
    slurmLog: arraySlurmLog(ctx.logNaming(), "host"),
  });
  const script =
    "#!/bin/sh\n# Toil worker hosts: each array task runs the jobs the leader hands it.\n" +
    `exec ${[process.execPath, ...hostNodeFlags(shape.args), hostScript, dir].map(singleQuote).join(" ")}\n`;
  return ctx.slurm.sbatch(args, {}, script);
}

/**
 * Node flags of a host: `gc()` for its memory check, and a young generation sized to its memory.
 * V8 grows its young generation up to 32 MiB under a high allocation rate (thousands of short jobs),
 * whatever the memory limit; a host with little memory would be killed for it.
 */
export function hostNodeFlags(resourceArgs: readonly string[]): string[] {
  const mem = resourceArgs.find((a) => a.startsWith("--mem="));
  const mib = mem ? Number(/^--mem=(\d+)M$/.exec(mem)?.[1]) : Number.NaN;
  const flags = ["--expose-gc"];
  if (Number.isFinite(mib) && mib > 0) flags.push(`--max-semi-space-size=${Math.max(1, Math.min(16, Math.floor(mib / 64)))}`);
  return flags;
}

/**
 * The Slurm record of each host (one squeue call; sacct for those squeue no longer lists), or
 * `undefined` for a host neither knows.
 */
export async function pollHostStates(
  slurm: SlurmCommands,
  hosts: readonly Host[],
  /** Hosts not worth asking sacct about (cancelled while pending: Slurm keeps no record of them). */
  skipSacct: (host: Host) => boolean = () => false,
): Promise<Map<Host, SlurmJobRecord | undefined>> {
  const byKey = new Map<string, SlurmJobRecord>();
  const arrays = new Map<string, SlurmJobRecord>();
  const keys = new Set(hosts.map((h) => h.key));
  for (const rec of await slurm.squeue([...new Set(hosts.map((h) => h.submitId))])) {
    if (keys.has(rec.key)) byKey.set(rec.key, rec);
    else arrays.set(rec.key, rec);
  }
  const out = new Map<Host, SlurmJobRecord | undefined>();
  const missing: Host[] = [];
  for (const host of hosts) {
    let rec = byKey.get(host.key);
    // Unstarted tasks of an array that were cancelled together show as one record of the array itself.
    const whole = arrays.get(host.submitId);
    if (!rec && whole && jobOutcome(whole.state, whole.exitStatus, whole.key).ended) rec = { ...whole, key: host.key };
    if (rec) out.set(host, rec);
    else if (skipSacct(host)) out.set(host, undefined);
    else missing.push(host);
  }
  if (missing.length > 0) {
    const found = new Map<string, SlurmJobRecord>();
    for (const rec of await slurm.sacct(missing.map((h) => h.rawId ?? h.key))) found.set(rec.key, rec).set(rec.rawId, rec);
    for (const host of missing) {
      const rec = found.get(host.key) ?? (host.rawId ? found.get(host.rawId) : undefined);
      out.set(host, rec ? { ...rec, key: host.key } : undefined);
    }
  }
  return out;
}

/** What Slurm wrote for a host (its `toil_<wf>.host_<array>_<task>.slurm.log`), as lines; none if discarded or absent. */
export function slurmLogLines(logs: LogNaming, key: string): string[] {
  if (logs.discard) return [];
  const [arrayId, task] = key.split("_");
  try {
    return readFileSync(`${logs.dir}/toil_${logs.workflowId}.host_${arrayId}_${task}.slurm.log`, "utf8").trim().split("\n");
  } catch {
    return [];
  }
}
