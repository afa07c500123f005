import { BatchJobExitReason, EXIT_STATUS_UNAVAILABLE_VALUE } from "@toil/batch-core";
import { UnknownSlurmStateError } from "./errors.js";

/** Slurm states after which a job never runs again, with the exit reason each one means. */
export const TERMINAL_SLURM_STATES: Readonly<Record<string, BatchJobExitReason>> = {
  BOOT_FAIL: BatchJobExitReason.LOST,
  CANCELLED: BatchJobExitReason.KILLED,
  COMPLETED: BatchJobExitReason.FINISHED,
  DEADLINE: BatchJobExitReason.KILLED,
  FAILED: BatchJobExitReason.FAILED,
  NODE_FAIL: BatchJobExitReason.LOST,
  OUT_OF_MEMORY: BatchJobExitReason.MEMLIMIT,
  PREEMPTED: BatchJobExitReason.KILLED,
  REVOKED: BatchJobExitReason.KILLED,
  SPECIAL_EXIT: BatchJobExitReason.FAILED,
  TIMEOUT: BatchJobExitReason.KILLED,
};

/** Slurm states in which a job may still run or change (held and suspended jobs included). */
export const NONTERMINAL_SLURM_STATES: ReadonlySet<string> = new Set([
  "CONFIGURING",
  "COMPLETING",
  "PENDING",
  "RUNNING",
  "RESV_DEL_HOLD",
  "REQUEUE_FED",
  "REQUEUE_HOLD",
  "REQUEUED",
  "RESIZING",
  "SIGNALING",
  "STAGE_OUT",
  "STOPPED",
  "SUSPENDED",
]);

/** Normalizes a state word: `CANCELLED by 0` → `CANCELLED`, `cancelled+` → `CANCELLED`. */
export function normalizeState(state: string): string {
  return (state.trim().split(/\s+/)[0] ?? "").replace(/\+$/, "").toUpperCase();
}

/** Exit status from Slurm's `exit:signal` pair (`0:9` → 137, `3:0` → 3). */
export function exitStatusFromPair(pair: string): number | null {
  const m = /^(\d+):(\d+)$/.exec(pair.trim());
  if (!m) return null;
  const code = Number(m[1]);
  const signal = Number(m[2]);
  return signal > 0 ? 128 + signal : code;
}

/** Exit status from squeue's `exit_code` (a raw wait status: 768 → 3, 9 → 137, 253 → 253). */
export function exitStatusFromWaitStatus(raw: string | number): number | null {
  const v = typeof raw === "number" ? raw : Number(raw.trim());
  if (!Number.isInteger(v) || v < 0) return null;
  const signal = v & 0x7f;
  return signal !== 0 ? 128 + signal : (v >> 8) & 0xff;
}

/** What a job's Slurm state means for Toil: still going, or ended with a status and reason. */
export type JobOutcome =
  | {
      /** The job has not ended yet. */
      ended: false;
      /** Whether it is running (false: still pending). */
      running: boolean;
    }
  | {
      /** The job has ended. */
      ended: true;
      /** Its exit status (255 when Slurm gave none, or 0 for a job that did not complete). */
      exitStatus: number;
      /** Why it ended, in Toil's terms. */
      exitReason: BatchJobExitReason;
    };

/**
 * Maps a Slurm state and exit status to Toil's view. A job that ended in any state other than
 * COMPLETED never reports success (Slurm says `TIMEOUT 0:0`): a 0 status becomes 255.
 * Throws {@link UnknownSlurmStateError} for a state it does not know.
 */
export function jobOutcome(state: string, exitStatus: number | null, slurmJobId: string): JobOutcome {
  const s = normalizeState(state);
  if (NONTERMINAL_SLURM_STATES.has(s)) return { ended: false, running: s === "RUNNING" };
  const reason = TERMINAL_SLURM_STATES[s];
  if (reason === undefined) throw new UnknownSlurmStateError(state, slurmJobId);
  let status = exitStatus ?? EXIT_STATUS_UNAVAILABLE_VALUE;
  if (s === "COMPLETED") status = exitStatus ?? 0;
  else if (status === 0) status = EXIT_STATUS_UNAVAILABLE_VALUE;
  return { ended: true, exitStatus: status, exitReason: reason };
}

/** One job (or array task) as a Slurm command reports it. */
export interface SlurmJobRecord {
  /** Toil's key for the job: `123` for a job, `123_4` for an array task. */
  key: string;
  /** Slurm's own numeric id of the job or task (for an unstarted array task: the array's id). */
  rawId: string;
  /** Slurm's state, e.g. `RUNNING` or `COMPLETED`. */
  state: string;
  /** Exit status already converted (128 + signal for signals), or null when not reported. */
  exitStatus: number | null;
  /** Seconds the job has run, when reported. */
  elapsed: number | null;
}

/** The squeue output format this plugin asks for (fields separated by `|`). */
export const SQUEUE_FORMAT = "JobID:|,JobArrayID:|,State:|,exit_code:|,TimeUsed:|";

function parseElapsed(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  if (t === "" || t === "INVALID" || t === "UNLIMITED") return null;
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(t);
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/**
 * Reads `squeue -h -t all -r -O JobID:|,JobArrayID:|,State:|,exit_code:|,TimeUsed:|` output.
 * The key is the array form (`<array>_<task>`), which equals the job id for plain jobs.
 */
export function parseSqueue(output: string): SlurmJobRecord[] {
  const out: SlurmJobRecord[] = [];
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split("|").map((s) => s.trim());
    const [rawId, key, state, exitCode, used] = f;
    if (!rawId || !key || !state) continue;
    out.push({
      key,
      rawId,
      state,
      exitStatus: exitCode === undefined || exitCode === "" ? null : exitStatusFromWaitStatus(exitCode),
      elapsed: parseElapsed(used),
    });
  }
  return out;
}

/** The sacct fields this plugin asks for. */
export const SACCT_FORMAT = "JobID,JobIDRaw,State,ExitCode,Elapsed";

/**
 * Reads `sacct -n -P -o JobID,JobIDRaw,State,ExitCode,Elapsed` output. Step lines (`123.batch`,
 * `123.extern`) are skipped. With `sacct -c` (job completion log) the JobID of an array task is
 * its raw id.
 */
export function parseSacct(output: string): SlurmJobRecord[] {
  const out: SlurmJobRecord[] = [];
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    const [key, rawId, state, exitCode, elapsed] = line.split("|").map((s) => s.trim());
    if (!key || !state || key.includes(".")) continue;
    out.push({
      key,
      rawId: rawId || key,
      state,
      exitStatus: exitCode === undefined ? null : exitStatusFromPair(exitCode),
      elapsed: parseElapsed(elapsed),
    });
  }
  return out;
}

/**
 * Reads `scontrol show job -o` output (one line per job or task, `Key=Value` words).
 */
export function parseScontrol(output: string): SlurmJobRecord[] {
  const out: SlurmJobRecord[] = [];
  for (const line of output.split("\n")) {
    if (!line.includes("JobId=")) continue;
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(?:^|\s)([A-Za-z/:]+)=(\S*)/g)) fields.set(m[1] as string, m[2] as string);
    const rawId = fields.get("JobId");
    const state = fields.get("JobState");
    if (!rawId || !state) continue;
    const arrayJob = fields.get("ArrayJobId");
    const arrayTask = fields.get("ArrayTaskId");
    const key = arrayJob && arrayTask && /^\d+$/.test(arrayTask) ? `${arrayJob}_${arrayTask}` : rawId;
    const exit = fields.get("ExitCode");
    out.push({
      key,
      rawId,
      state,
      exitStatus: exit === undefined ? null : exitStatusFromPair(exit),
      elapsed: parseElapsed(fields.get("RunTime")),
    });
  }
  return out;
}

/** One partition line of `sinfo -a -h -o "%P|%G|%l|%p|%c|%m"`. */
export interface PartitionInfo {
  /** The partition's name. */
  name: string;
  /** The partition's nodes have generic resources (GPUs). */
  gres: boolean;
  /** Time limit in seconds (`Infinity` = none). */
  timeLimit: number;
  /** Priority tier (lower is preferred). */
  priority: number;
  /** Whether sinfo marked it as the default partition (`*`). */
  isDefault: boolean;
}
