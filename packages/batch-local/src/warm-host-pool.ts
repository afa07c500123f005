/**
 * The warm worker hosts of the single-machine batch system: node processes (runtime/warm-host.mjs)
 * that run one job at a time, so a worker script's modules load once per host rather than once per
 * job. The pool starts hosts (a few at a time), reuses idle ones, replaces those whose script found
 * them unfit or that ran their quota, and kills them; it turns what a host says into job ends.
 */
import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BatchJobExitReason, BatchSystemError, type Environment, EXIT_STATUS_UNAVAILABLE_VALUE } from "@toil/batch-core";
import { markNotWarm } from "./command.js";
import { exitOf, forwardOutput, JOB_MARKER_ENV, type LocalJob, type OutputSink } from "./local-job.js";
import { findWarmHostScript, takePrestartedHost } from "./prestart.js";
import { killProcessTree, signalGroup } from "./process-tree.js";

/** How the pool starts and keeps hosts (fixed for the batch system's life). */
export interface WarmHostPoolSettings {
  /** Marks this batch system's processes; host `n` carries `JOB_MARKER_ENV=<token>.h<n>`. */
  token: string;
  /** Idle hosts kept for reuse. */
  maxIdle: number;
  /** Replace a host after it ran this many jobs (0: never). */
  maxJobsPerHost: number;
  /** Hosts that may be loading their script at once. */
  startsAtOnce: number;
  /** Where the hosts' own stdout/stderr go. */
  stdio: "inherit" | "ignore" | "files";
  /** With `stdio: "inherit"`: receives the hosts' output through pipes. */
  output: OutputSink | undefined;
  /** Seconds between SIGTERM and SIGKILL when stopping a host. */
  killGraceSeconds: number;
}

/** What the pool needs from the batch system that owns the jobs. */
export interface WarmHostPoolOwner {
  /** The environment a new host starts with. */
  baseEnv(): Environment;
  /** Where a job writes its stdout/stderr when they go to files (empty otherwise). */
  outputPaths(job: LocalJob): { stdoutPath?: string; stderrPath?: string };
  /** The job runs in the process `externalId` (for the message bus). */
  announce(job: LocalJob, externalId: string): void;
  /** The job no longer holds its resources (it only waits for its commit's sync). */
  releaseResources(job: LocalJob): void;
  /** The job ended with this status. */
  finish(job: LocalJob, status: number, reason: BatchJobExitReason): void;
  /** The host's script does not run warm: run the job as a fresh process instead. */
  runCold(job: LocalJob): void;
  /** Resources or a start slot were freed: queued jobs may start. */
  schedule(): void;
  /** Warnings and notes. */
  log(level: "warn" | "info", message: string): void;
}

interface WarmHost {
  id: number;
  child: ChildProcess;
  /** Its `JOB_MARKER_ENV` value. */
  marker: string;
  pid: number;
  job: LocalJob | null;
  /** Jobs it released (see `LocalJob.released`) and has not reported done yet. */
  syncing: Set<LocalJob>;
  jobsRun: number;
  dead: boolean;
  /** The environment of the last job sent to this host: the next one is sent as a difference. */
  lastEnv: Environment | null;
  /** Still loading its script: counts against `startsAtOnce` until loaded, or a few seconds. */
  starting: boolean;
  startTimer: NodeJS.Timeout | undefined;
  /** Its script said the process is unfit for more jobs: it is stopped once its job is done. */
  retiring: boolean;
  /** Why, as the host said. */
  retireReason?: string | undefined;
}

/** What a warm host says (see runtime/warm-host.mjs). */
interface HostMessage {
  t: string;
  id?: number;
  code?: number;
  /** "done": every job that ended (older hosts send one `id` and `code`). */
  jobs?: { id: number; code: number }[];
  /** The script found the process unfit for more jobs ("retire", or with "free" / "done"). */
  retire?: boolean;
  reason?: string;
}

/** How long a host's start may hold a start slot when it never says it loaded (a hung import). */
const HOST_START_SLOT_MS = 10_000;

/** What changes `from` into `to`: keys to set and keys to remove. */
function envPatch(from: Environment, to: Environment): { set: Environment; unset: string[] } {
  const set: Environment = {};
  const unset: string[] = [];
  for (const key of Object.keys(to)) if (from[key] !== to[key]) set[key] = to[key]!;
  for (const key of Object.keys(from)) if (!(key in to)) unset.push(key);
  return { set, unset };
}

function warmHostScriptPath(): string {
  const script = findWarmHostScript();
  if (!script) throw new BatchSystemError("Cannot find runtime/warm-host.mjs of @toil/batch-local (broken installation).");
  return script;
}

/** The warm hosts of one batch system: busy, idle and starting. */
export class WarmHostPool {
  private readonly idleHosts: WarmHost[] = [];
  private readonly hosts = new Set<WarmHost>();
  private nextHostId = 1;
  private startingHosts = 0;
  private closed = false;

  constructor(
    private readonly settings: WarmHostPoolSettings,
    private readonly owner: WarmHostPoolOwner,
  ) {}

  /** Number of hosts alive (busy or idle). */
  get size(): number {
    return this.hosts.size;
  }

  /** No host is idle and as many are loading as may: a warm job waits rather than start another. */
  get mustWaitForStart(): boolean {
    return this.idleHosts.length === 0 && this.startingHosts >= this.settings.startsAtOnce;
  }

  /** Run `job` (its environment built) in an idle or a new host; false if no host could start. */
  run(job: LocalJob): boolean {
    const host = this.takeHost();
    if (!host) return false;
    host.job = job;
    job.host = host;
    job.pid = host.pid;
    host.child.ref();
    // Consecutive jobs differ in a variable or two: send the difference, not ~100 variables per job.
    const jobEnv = job.env ?? {};
    const env = host.lastEnv ? { envPatch: envPatch(host.lastEnv, jobEnv) } : { env: jobEnv };
    host.lastEnv = jobEnv;
    host.child.send({
      t: "run",
      id: job.id,
      script: job.warmScript,
      argv: job.argv,
      ...env,
      cwd: process.cwd(),
      ...this.owner.outputPaths(job),
    });
    this.owner.announce(job, `${host.pid}/warm`);
    return true;
  }

  /** Stop the hosts that run no job, and every host once its job is done; resolves when the idle ones are gone. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts].filter((host) => !host.job).map((host) => this.stopHost(host)));
  }

  private takeHost(): WarmHost | null {
    for (;;) {
      const idle = this.idleHosts.pop();
      if (!idle) break;
      if (!idle.dead && !idle.retiring) return idle;
    }
    try {
      return this.spawnHost();
    } catch (err) {
      this.owner.log("warn", `Could not start a warm worker host: ${(err as Error).message}; running the job as a fresh process.`);
      return null;
    }
  }

  private spawnHost(): WarmHost {
    const id = this.nextHostId++;
    const { stdio, output } = this.settings;
    // A host the leader started while it loaded the workflow, if it was started as this one would be.
    const baseEnv = this.owner.baseEnv();
    const prestarted = takePrestartedHost(baseEnv, stdio === "inherit" && output !== undefined);
    const marker = prestarted?.marker ?? `${this.settings.token}.h${id}`;
    const child =
      prestarted?.child ??
      fork(warmHostScriptPath(), [], {
        env: { ...baseEnv, [JOB_MARKER_ENV]: marker },
        detached: true,
        stdio: stdio === "ignore" ? ["ignore", "ignore", "ignore", "ipc"] : output ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "inherit", "inherit", "ipc"],
        serialization: "json",
      });
    if (child.pid === undefined) throw new BatchSystemError("fork returned no pid");
    forwardOutput(child, output);
    const host: WarmHost = {
      id,
      child,
      marker,
      pid: child.pid,
      job: null,
      syncing: new Set(),
      jobsRun: 0,
      dead: false,
      lastEnv: null,
      starting: true,
      startTimer: undefined,
      retiring: false,
    };
    this.startingHosts++;
    host.startTimer = setTimeout(() => this.hostStarted(host), HOST_START_SLOT_MS);
    host.startTimer.unref();
    this.hosts.add(host);
    child.on("message", (msg: HostMessage) => this.onHostMessage(host, msg));
    child.once("error", () => {
      /* reported through exit */
    });
    child.once("exit", (code, signal) => this.onHostExit(host, code, signal));
    if (prestarted?.loaded) this.hostStarted(host);
    return host;
  }

  /** The host no longer counts as starting; queued jobs that waited for a start slot may go. */
  private hostStarted(host: WarmHost): void {
    if (!host.starting) return;
    host.starting = false;
    clearTimeout(host.startTimer);
    this.startingHosts--;
    this.owner.schedule();
  }

  private onHostMessage(host: WarmHost, msg: HostMessage): void {
    if (msg.t === "loaded" || msg.t === "done" || msg.t === "notWarm" || msg.t === "free") this.hostStarted(host);
    // The host's script found the process unfit for more jobs (a job left an error unhandled).
    if (msg.t === "retire" || msg.retire === true) {
      host.retiring = true;
      host.retireReason ??= msg.reason;
    }
    if (msg.t === "retire") {
      if (!host.job) this.retireWhenSynced(host);
      return;
    }
    if (msg.t === "done") {
      for (const { id, code } of msg.jobs ?? [{ id: msg.id, code: msg.code }]) this.hostJobDone(host, id, code);
      return;
    }
    const job = host.job;
    if (!job || msg.id !== job.id) return;
    if (msg.t === "free") {
      // Only the job's commit is being synced: its resources and the host are free for the next job.
      job.released = true;
      this.owner.releaseResources(job);
      host.job = null;
      host.syncing.add(job);
      host.jobsRun++;
      if (host.retiring) this.retireWhenSynced(host);
      else this.recycleHost(host);
      this.owner.schedule();
    } else if (msg.t === "notWarm") {
      host.job = null;
      job.host = null;
      if (job.warmScript) markNotWarm(job.warmScript);
      job.warmScript = null;
      this.recycleHost(host);
      this.owner.runCold(job);
    }
  }

  /** Stop a host that must run no more jobs (once the jobs it is syncing are done); the next job gets a fresh one. */
  private retireWhenSynced(host: WarmHost): void {
    const i = this.idleHosts.indexOf(host);
    if (i >= 0) this.idleHosts.splice(i, 1);
    if (host.syncing.size > 0 || host.dead) return;
    this.owner.log("info", `Replacing warm worker host ${host.pid}: ${host.retireReason ?? "its script asked for it"}`);
    void this.stopHost(host);
  }

  /** A job of `host` ended (after its commit was synced, when it released the host first). */
  private hostJobDone(host: WarmHost, id: number | undefined, code: number | undefined): void {
    let job: LocalJob | undefined;
    if (host.job && host.job.id === id) {
      job = host.job;
      host.job = null;
      host.jobsRun++;
      job.host = null;
      if (host.retiring) this.retireWhenSynced(host);
      else this.recycleHost(host);
    } else {
      for (const j of host.syncing) if (j.id === id) job = j;
      if (!job) return;
      host.syncing.delete(job);
      job.host = null;
      if (host.retiring && !host.job) this.retireWhenSynced(host);
      else if (host.syncing.size === 0 && !host.job && this.idleHosts.includes(host)) this.unrefIdle(host);
    }
    this.owner.finish(job, code ?? EXIT_STATUS_UNAVAILABLE_VALUE, code === 0 ? BatchJobExitReason.FINISHED : BatchJobExitReason.FAILED);
  }

  private unrefIdle(host: WarmHost): void {
    host.child.unref();
    (host.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  private recycleHost(host: WarmHost): void {
    if (host.dead) return;
    const { maxJobsPerHost, maxIdle } = this.settings;
    const tooOld = maxJobsPerHost > 0 && host.jobsRun >= maxJobsPerHost;
    if (this.closed || tooOld || this.idleHosts.length >= maxIdle) {
      void this.stopHost(host);
      return;
    }
    // A host still syncing a job keeps the leader's event loop alive until it reports.
    if (host.syncing.size === 0) this.unrefIdle(host);
    this.idleHosts.push(host);
  }

  private onHostExit(host: WarmHost, code: number | null, signal: NodeJS.Signals | null): void {
    host.dead = true;
    this.hostStarted(host);
    this.hosts.delete(host);
    const i = this.idleHosts.indexOf(host);
    if (i >= 0) this.idleHosts.splice(i, 1);
    signalGroup(host.pid, "SIGKILL");
    const jobs = [...host.syncing, ...(host.job ? [host.job] : [])];
    host.job = null;
    host.syncing.clear();
    for (const job of jobs) {
      job.host = null;
      const { status, reason } = exitOf(code, signal);
      this.owner.finish(job, status, code === 0 ? BatchJobExitReason.FAILED : reason);
    }
  }

  private async stopHost(host: WarmHost): Promise<void> {
    if (host.dead) return;
    const exited = new Promise<void>((resolve) => host.child.once("exit", () => resolve()));
    // An idle host is unreferenced; the wait for its exit must keep the event loop alive, or a
    // caller awaiting shutdown() sees its program end with the promise unsettled.
    host.child.ref();
    await killProcessTree({ roots: [host.pid], envMarker: `${JOB_MARKER_ENV}=${host.marker}\0` }, this.settings.killGraceSeconds);
    if (!host.dead) await exited;
  }
}
