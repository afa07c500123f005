/**
 * One warm worker host started before the batch system exists. A leader starts it while it loads
 * the workflow (`prestartWarmHost`), so the node start-up and the worker script's import overlap
 * with that work instead of following the first job's issue; the first `SingleMachineBatchSystem`
 * that needs a host takes it (`takePrestartedHost`) when it was started as that batch system would
 * start one, and stops it otherwise.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Environment variable marking every process a single-machine batch system starts (see `SingleMachineBatchSystem`). */
export const JOB_MARKER_ENV = "TOIL_BATCH_LOCAL_JOB";

let warmHostScript: string | undefined;

/** Path of `runtime/warm-host.mjs` of this package, or undefined if it is missing (a broken installation). */
export function findWarmHostScript(): string | undefined {
  if (warmHostScript) return warmHostScript;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "runtime", "warm-host.mjs");
    if (existsSync(candidate)) return (warmHostScript = candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A host started ahead of its batch system. */
export interface PrestartedHost {
  child: ChildProcess;
  /** Its `JOB_MARKER_ENV` value (the batch system stops its process tree by it). */
  marker: string;
  /** The environment it was started with (without the marker). */
  env: Readonly<Record<string, string>>;
  /** It said its script is loaded. */
  loaded: boolean;
  /** Variables in which a batch system's hosts may differ from this one's start (see {@link prestartWarmHost}). */
  lateEnv: ReadonlySet<string>;
  /** Removes the listener that waits for "loaded" before adoption. */
  detach: () => void;
}

let pending: PrestartedHost | undefined;

/**
 * Start a warm worker host now and have it import `script` (the worker script the first jobs will
 * run), for the first single-machine batch system of this process to adopt. The host's output is
 * piped (as the batch system pipes it to the leader's logger) and held until it is adopted. It
 * keeps nothing alive: never adopted, it ends when this process does. Does nothing if a host is
 * already waiting or the host cannot be started.
 *
 * `lateEnv` names variables the batch system may set for its hosts that neither node nor `script`
 * reads when it starts (each job's environment carries them): a batch system whose host
 * environment differs from this process's in any other variable does not adopt the host.
 */
export function prestartWarmHost(script: string, lateEnv: readonly string[] = []): void {
  if (pending) return;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const marker = `prestart/${process.pid}-${randomBytes(4).toString("hex")}.h0`;
  const hostScript = findWarmHostScript();
  if (!hostScript) return;
  let child: ChildProcess;
  try {
    child = fork(hostScript, [], {
      env: { ...env, [JOB_MARKER_ENV]: marker },
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
  } catch {
    return;
  }
  if (child.pid === undefined) return;
  const onMessage = (msg: { t?: string }) => {
    if (msg?.t === "loaded") host.loaded = true;
  };
  const host: PrestartedHost = { child, marker, env, loaded: false, lateEnv: new Set(lateEnv), detach: () => child.off("message", onMessage) };
  child.on("message", onMessage);
  child.once("error", () => undefined);
  child.once("exit", () => {
    if (pending === host) pending = undefined;
  });
  child.send({ t: "load", script }, () => undefined);
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  pending = host;
}

/** Stop the host started by {@link prestartWarmHost} if it is still waiting (the run will not use it). */
export function discardPrestartedHost(): void {
  const host = pending;
  pending = undefined;
  if (!host) return;
  host.detach();
  host.child.kill("SIGKILL");
}

/**
 * The host started by {@link prestartWarmHost}, if one is waiting and its start matches a host the
 * caller would start with `env` (they differ at most in the host's `lateEnv`) and piped output
 * (`pipedOutput`). A waiting host that does not match is stopped. Either way no host is waiting
 * afterwards.
 */
export function takePrestartedHost(env: Readonly<Record<string, string>>, pipedOutput: boolean): PrestartedHost | undefined {
  const host = pending;
  pending = undefined;
  if (!host || host.child.exitCode !== null || host.child.signalCode !== null || !host.child.connected) return undefined;
  host.detach();
  if (!pipedOutput) {
    host.child.kill("SIGKILL");
    return undefined;
  }
  const keys = new Set([...Object.keys(env), ...Object.keys(host.env)]);
  keys.delete(JOB_MARKER_ENV);
  for (const key of keys) {
    if (env[key] !== host.env[key] && !host.lateEnv.has(key)) {
      host.child.kill("SIGKILL");
      return undefined;
    }
  }
  host.child.ref();
  return host;
}
