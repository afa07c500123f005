import type { Environment } from "@toil/batch-core";
import { SlurmCommandError } from "./errors.js";
import { PartitionSet, parseSinfo, SINFO_ARGS } from "./partitions.js";
import type { CommandResult, CommandRunner } from "./runner.js";
import { jobOutcome, parseSacct, parseSqueue, SACCT_FORMAT, SQUEUE_FORMAT, type SlurmJobRecord } from "./state.js";

const SQUEUE_UNKNOWN_ID = /Invalid job id specified/i;
const SACCT_DISABLED = /accounting storage is disabled/i;
/** sbatch refusals that no retry can fix. */
const SBATCH_PERMANENT =
  /Invalid (partition|qos|account|generic resource|feature|job array)|More processors requested|Requested node configuration is not available|Memory specification can not be satisfied|Requested time limit is invalid|QOSMax|AssocMax|not allowed|Access\/permission denied|invalid option|unrecognized option|unknown option|Invalid argument/i;
/** Longest `-j` list passed in one call (Linux limits one argument to 128 KiB). */
const MAX_ID_LIST_CHARS = 60_000;

/** Sleeps without keeping the process alive. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** Reports a problem the user should know about, without stopping the workflow. */
export type Warn = (message: string) => void;

/** The default {@link Warn} when no logger is given: a Node process warning. */
export function processWarning(message: string): void {
  process.emitWarning(message, { type: "ToilSlurmWarning" });
}

function chunkIds(ids: readonly string[], maxChars = MAX_ID_LIST_CHARS): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let len = 0;
  for (const id of ids) {
    if (cur.length > 0 && len + id.length + 1 > maxChars) {
      out.push(cur);
      cur = [];
      len = 0;
    }
    cur.push(id);
    len += id.length + 1;
  }
  if (cur.length) out.push(cur);
  return out;
}

function slurmDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The environment sbatch runs with: the leader's, without desktop-session variables, plus the
 * job's. Unless the user set `SLURM_UMASK`, jobs get umask 0077, so the log files slurmd creates
 * for them (and anything else they create) are owner-only whatever the leader's umask.
 */
export function sbatchEnvironment(jobEnv: Environment): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("XDG_") || k.startsWith("DBUS_")) continue;
    env[k] = v;
  }
  return { SLURM_UMASK: "0077", ...env, ...jobEnv };
}

/** What one sbatch call gave: the id it printed, or the reason Slurm refused the job for good. */
export type SbatchResult = { id: string } | { refused: string };

/** Timing settings the commands run with. */
export interface SlurmCommandSettings {
  /** Seconds between polls: the first retry delay. */
  statePollingWait: number;
  /** Seconds to keep retrying a failing command. */
  statePollingTimeout: number;
}

/**
 * The Slurm commands the batch system runs, each from an argument array: sbatch, squeue (one call
 * for many jobs), sacct (falling back to the job completion log), scancel, sinfo and scontrol.
 * Failing commands are retried with growing delays until `--statePollingTimeout`.
 */
export class SlurmCommands {
  private sacctMode: "dbd" | "completion-log" | "unavailable" = "dbd";
  private sacctWarned = false;
  private partitionsPromise: Promise<PartitionSet> | undefined;
  private maxArraySizePromise: Promise<number> | undefined;
  /** Partitions seen by sinfo, once read. */
  partitions: PartitionSet | undefined;

  constructor(
    private readonly run: CommandRunner,
    private readonly settings: SlurmCommandSettings,
    /** Whether the batch system is stopping (then failing commands are not retried). */
    private readonly stopping: () => boolean,
    /** Where problems the user should know about go. */
    private readonly warn: Warn = processWarning,
    /** When the batch system started (sacct looks back from a day before). */
    private readonly startedAt = Date.now(),
  ) {}

  /** Runs a command once, as it is (no retries). */
  once(command: string, args: string[]): Promise<CommandResult> {
    return this.run(command, args);
  }

  /** The partitions sinfo lists (read once; none if sinfo fails, with a warning). */
  partitionSet(): Promise<PartitionSet> {
    this.partitionsPromise ??= (async () => {
      try {
        const res = await this.run("sinfo", [...SINFO_ARGS]);
        if (res.exitCode !== 0) {
          this.warn(`sinfo failed (${res.stderr.trim() || `exit ${res.exitCode}`}); jobs go to Slurm's default partition unless one is named.`);
          return new PartitionSet([]);
        }
        return new PartitionSet(parseSinfo(res.stdout));
      } catch (err) {
        this.warn(`cannot run sinfo (${(err as Error).message}); jobs go to Slurm's default partition unless one is named.`);
        return new PartitionSet([]);
      }
    })().then((p) => (this.partitions = p));
    return this.partitionsPromise;
  }

  /** Most tasks one array may have on this cluster: `MaxArraySize` (task indices run from 0 to MaxArraySize - 1). */
  clusterMaxArraySize(): Promise<number> {
    this.maxArraySizePromise ??= this.run("scontrol", ["show", "config"]).then(
      (res) => {
        const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(res.stdout);
        return m ? Math.max(1, Number(m[1])) : Infinity;
      },
      () => Infinity,
    );
    return this.maxArraySizePromise;
  }

  /**
   * Runs sbatch (with retries for transient failures) and returns the id it printed, or the
   * reason when Slurm refused the job for good.
   */
  async sbatch(args: string[], env: Environment, script: string | undefined): Promise<SbatchResult> {
    let res: CommandResult;
    try {
      res = await this.withRetries("sbatch", args, {
        env: sbatchEnvironment(env),
        input: script,
        permanent: (r) => SBATCH_PERMANENT.test(r.stderr),
      });
    } catch (err) {
      if (err instanceof SlurmCommandError && err.exitCode !== null) {
        return { refused: err.stderr.trim() || `exit status ${err.exitCode}` };
      }
      throw err;
    }
    const text = res.stdout.trim();
    const id = text.split(";")[0]?.trim().split(/\s+/).pop() ?? "";
    if (!/^\d+$/.test(id)) {
      throw new SlurmCommandError(`sbatch printed no job id (output: "${text}").`, "sbatch", args, res.exitCode, res.stderr);
    }
    return { id };
  }

  /** One squeue call (split only if the id list is too long) for the given submit ids. */
  async squeue(submitIds: readonly string[]): Promise<SlurmJobRecord[]> {
    const out: SlurmJobRecord[] = [];
    await this.forChunks(submitIds, async (ids) => {
      const res = await this.withRetries("squeue", ["-h", "-t", "all", "-r", "-j", ids.join(","), "-O", SQUEUE_FORMAT], {
        accept: (r) => ids.length === 1 && SQUEUE_UNKNOWN_ID.test(r.stderr),
      });
      out.push(...(res.exitCode === 0 ? parseSqueue(res.stdout) : []));
    });
    return out;
  }

  /** One sacct call for jobs squeue no longer lists (falls back to the job completion log, `sacct -c`). */
  async sacct(ids: readonly string[]): Promise<SlurmJobRecord[]> {
    if (this.sacctMode === "unavailable") return [];
    const out: SlurmJobRecord[] = [];
    const start = slurmDate(this.startedAt - 86_400_000);
    await this.forChunks([...new Set(ids)].filter(Boolean), async (chunk) => {
      for (;;) {
        const mode = this.sacctMode;
        if (mode === "unavailable") return;
        const args = ["-n", "-P", "-o", SACCT_FORMAT, "-S", start, "-E", "now", "-j", chunk.join(",")];
        if (mode === "completion-log") args.unshift("-c");
        // sacct is only the second source: its failures are warnings, never fatal.
        const res = await this.withRetries("sacct", args, { accept: () => true });
        if (res.exitCode === 0) {
          out.push(...parseSacct(res.stdout));
          return;
        }
        const why = res.stderr.trim() || `exit status ${res.exitCode}`;
        if (mode === "dbd" && SACCT_DISABLED.test(res.stderr)) {
          this.sacctMode = "completion-log";
          continue;
        }
        if (mode === "completion-log") {
          this.warn(`sacct -c cannot report finished jobs here (${why}); jobs squeue forgets will be reported as lost.`);
          this.sacctMode = "unavailable";
        } else if (!this.sacctWarned) {
          this.sacctWarned = true;
          this.warn(`sacct failed (${why}); relying on squeue for job states.`);
        }
        return;
      }
    });
    return out;
  }

  /**
   * scancel the jobs or tasks (`keys`), then wait (up to --statePollingTimeout) until Slurm says
   * none of them runs; `submitIds` are the ids squeue is asked about.
   */
  async cancel(keys: readonly string[], submitIds: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const unique = [...new Set(keys)];
    await this.forChunks(unique, async (chunk) => {
      await this.withRetries("scancel", chunk, { accept: (r) => /Invalid job id|already completing or completed/i.test(r.stderr) });
    });
    const deadline = Date.now() + this.settings.statePollingTimeout * 1000;
    const wanted = new Set(unique);
    const queried = [...new Set(submitIds)];
    let delay = 100;
    while (Date.now() < deadline) {
      const live = (await this.squeue(queried)).filter((r) => {
        if (!wanted.has(r.key)) return false;
        return !jobOutcome(r.state, r.exitStatus, r.key).ended;
      });
      if (live.length === 0) return;
      // A timer that keeps the process alive: a program may have nothing else left but this wait.
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
    this.warn(`Slurm jobs ${unique.join(", ")} were cancelled but still show as running after --statePollingTimeout.`);
  }

  /** scancel without waiting or retrying (for a job that must not start; errors are ignored). */
  cancelNow(keys: readonly string[]): void {
    if (keys.length === 0) return;
    void this.run("scancel", [...keys]).catch(() => undefined);
  }

  /** Calls `fn` on id lists short enough for one argument; halves a list the OS still finds too long. */
  private async forChunks(ids: readonly string[], fn: (chunk: string[]) => Promise<void>): Promise<void> {
    const attempt = async (chunk: string[]): Promise<void> => {
      try {
        await fn(chunk);
      } catch (err) {
        if (err instanceof SlurmCommandError && err.spawnCode === "E2BIG" && chunk.length > 1) {
          const half = Math.ceil(chunk.length / 2);
          await attempt(chunk.slice(0, half));
          await attempt(chunk.slice(half));
          return;
        }
        throw err;
      }
    };
    for (const chunk of chunkIds(ids)) await attempt(chunk);
  }

  /**
   * Runs a command; a failing exit status is retried with growing delays (from
   * `--statePollingWait`) until `--statePollingTimeout` has passed, unless `accept` says the
   * result is fine or `permanent` says retrying cannot help. Throws {@link SlurmCommandError}.
   */
  private async withRetries(
    command: string,
    args: string[],
    opts: {
      env?: NodeJS.ProcessEnv;
      input?: string;
      accept?: (r: CommandResult) => boolean;
      permanent?: (r: CommandResult) => boolean;
    } = {},
  ): Promise<CommandResult> {
    const began = Date.now();
    let delay = Math.max(0.05, this.settings.statePollingWait) * 1000;
    let attempts = 0;
    for (;;) {
      attempts++;
      // A command that cannot start at all (not installed, argument list too long) throws: not transient.
      const res = await this.run(command, args, { env: opts.env, input: opts.input });
      if (res.exitCode === 0 || opts.accept?.(res)) return res;
      const why = res.stderr.trim() || res.stdout.trim() || `exit status ${res.exitCode}`;
      const elapsed = (Date.now() - began) / 1000;
      if (opts.permanent?.(res) || elapsed + delay / 1000 > this.settings.statePollingTimeout || this.stopping()) {
        throw new SlurmCommandError(
          `${command} failed${attempts > 1 ? ` ${attempts} times over ${Math.round(elapsed)}s` : ""}: ${why}` +
            (opts.permanent?.(res) ? "" : ". Check that the Slurm controller is reachable (sinfo), or raise --statePollingTimeout."),
          command,
          args,
          res.exitCode,
          res.stderr,
        );
      }
      this.warn(`${command} failed (${why}); retrying in ${(delay / 1000).toFixed(1)}s.`);
      await sleep(delay);
      delay = Math.min(delay * 2, 60_000);
    }
  }
}
