/**
 * Bad input through the real `toil` command: every row is one user mistake (a flag, a config file,
 * a requirement, a workflow file, a job argument, a job store, a batch-system plugin, an import)
 * and the error it must get:
 *
 * - the error line `toil <command>: error [<ErrorClass>]: <message>` names the expected class and
 *   is the whole error: one line, the last one printed;
 * - the exit code is 2 (a usage mistake: nothing ran), distinct from 1 (a workflow that ran and failed);
 * - the message names the bad value and says how to fix it, without a stack trace;
 * - a row that points at an existing job store (a copy of a store left by a small workflow that
 *   failed) leaves it exactly as it was: same paths, modes, sizes, mtimes and contents;
 * - a row that names a new job store leaves nothing there (unless the row says the store is kept).
 *
 * Read-only rows: root ignores file permissions, so when the suite runs as root (as CI does) those
 * rows run the CLI as the unprivileged user `nobody` (uid 65534) over a store owned by that user and
 * made read-only with chmod: the same situation as any user whose store is read-only. If the suite
 * cannot drop privileges, those rows are skipped and say so.
 *
 * The rows run as concurrent processes (a few at a time) in one batch before the assertions.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync, chmodSync, chownSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordFigure } from "../../src/figures.js";
import { REPO_ROOT, tempDir } from "../../src/toil.js";
import { type CliResult, diffSnapshots, FIXTURES, fx, makeReadOnly, parseCliError, pool, runCli, snapshotTree, type Snapshot } from "./helpers.js";

const NOBODY = 65534;
const IS_ROOT = typeof process.getuid === "function" && process.getuid() === 0;

interface Ctx {
  /** This row's own directory (world-traversable, so an unprivileged run can use it). */
  dir: string;
  /** This row's copy of the seed store, when the row asks for one. */
  store: string;
  /** Base URL of the test's HTTP server (answers 404 to everything under /missing/). */
  http: string;
}

interface Row {
  id: string;
  area: "cli" | "size" | "cores" | "config-file" | "requirements" | "workflow" | "graph" | "job-args" | "job-store" | "batch-system" | "import" | "ops";
  mistake: string;
  args: (c: Ctx) => string[];
  /** Working directory (default: the row's directory). */
  cwd?: (c: Ctx) => string;
  env?: Record<string, string>;
  /** Prepare the row's directory. */
  setup?: (c: Ctx) => void;
  /** The row runs against a copy of the seed store; its snapshot must not change. */
  store?: "copy" | "read-only";
  /** Run as an unprivileged user (root bypasses permissions). */
  unprivileged?: boolean;
  /** A new job store path the row names; nothing may be left there. */
  newStore?: (c: Ctx) => string;
  /** The row documents that its store is kept (and its message must say so). */
  storeKept?: boolean;
  error: string;
  exit?: number;
  /** Bad values the message must name (strings matched literally). */
  names: (c: Ctx) => string[];
  /** The fix the message must give. */
  fix: RegExp;
}

const js = (c: Ctx): string => path.join(c.dir, "js");
const run = (workflow: string, ...rest: string[]) => (c: Ctx) => ["run", fx(workflow), "--jobStore", js(c), ...rest];
const runOk = (...rest: string[]) => run("ok.ts", ...rest);

const rows: Row[] = [
  // ---------------------------------------------------------------- command line
  { id: "unknown-flag", area: "cli", mistake: "an unknown flag", args: runOk("--bogusFlag", "1"), newStore: js, error: "UsageError", names: () => ["--bogusFlag"], fix: /toil run --help/ },
  { id: "misspelled-flag", area: "cli", mistake: "a misspelled flag", args: (c) => ["run", fx("ok.ts"), "--jobStor", js(c)], newStore: js, error: "UsageError", names: () => ["--jobStor"], fix: /Did you mean --jobStore\?/ },
  { id: "unknown-command", area: "cli", mistake: "an unknown command", args: () => ["frob", "./js"], error: "UsageError", names: () => ["frob"], fix: /toil --help/ },
  { id: "missing-workflow-arg", area: "cli", mistake: "`toil run` without a workflow file", args: () => ["run"], error: "UsageError", names: () => ["workflow"], fix: /toil run --help/ },
  { id: "no-job-store", area: "cli", mistake: "no --jobStore", args: () => ["run", fx("ok.ts")], error: "ConfigError", names: () => ["No job store"], fix: /add --jobStore PATH/ },
  { id: "bad-log-level", area: "cli", mistake: "a log level that does not exist", args: runOk("--logLevel", "loud"), newStore: js, error: "ConfigError", names: () => ["logLevel", '"loud"'], fix: /one of trace, debug, info/ },
  { id: "retry-negative", area: "cli", mistake: "--retryCount -1", args: runOk("--retryCount", "-1"), newStore: js, error: "ConfigError", names: () => ["retryCount", "-1"], fix: /at least 0/ },
  { id: "bad-accelerator", area: "cli", mistake: "--defaultAccelerators cuda:x", args: runOk("--defaultAccelerators", "cuda:x"), newStore: js, error: "ConfigError", names: () => ['"cuda:x"'], fix: /write e\.g\. gpu, cuda:1/ },
  { id: "bad-set-env", area: "cli", mistake: "--setEnv =x", args: runOk("--setEnv", "=x"), newStore: js, error: "ConfigError", names: () => ['"=x"'], fix: /NAME or NAME=VALUE/ },
  { id: "missing-work-dir", area: "cli", mistake: "--workDir that does not exist", args: (c) => [...runOk()(c), "--workDir", path.join(c.dir, "nope")], newStore: js, error: "ConfigError", names: (c) => [path.join(c.dir, "nope")], fix: /create it first/ },
  { id: "env-work-dir", area: "cli", mistake: "$TOIL_WORKDIR that does not exist", args: runOk(), env: { TOIL_WORKDIR: "/nonexistent/toil-work" }, newStore: js, error: "ConfigError", names: () => ["$TOIL_WORKDIR", "/nonexistent/toil-work"], fix: /create it first/ },
  // ---------------------------------------------------------------- sizes
  { id: "size-2XB", area: "size", mistake: "--defaultMemory 2XB", args: runOk("--defaultMemory", "2XB"), newStore: js, error: "ConfigError", names: () => ["defaultMemory", '"2XB"'], fix: /write e\.g\. 2G, 2Gi/ },
  { id: "size-negative", area: "size", mistake: "--defaultMemory -1G", args: runOk("--defaultMemory", "-1G"), newStore: js, error: "ConfigError", names: () => ['"-1G"'], fix: /write e\.g\. 2G, 2Gi/ },
  { id: "size-NaN", area: "size", mistake: "--defaultDisk NaN", args: runOk("--defaultDisk", "NaN"), newStore: js, error: "ConfigError", names: () => ["defaultDisk", '"NaN"'], fix: /write e\.g\. 2G, 2Gi/ },
  // ---------------------------------------------------------------- cores
  { id: "default-cores-0", area: "cores", mistake: "--defaultCores 0", args: runOk("--defaultCores", "0"), newStore: js, error: "ConfigError", names: () => ["defaultCores", "0 is too small"], fix: /greater than 0/ },
  { id: "default-cores-negative", area: "cores", mistake: "--defaultCores -2", args: runOk("--defaultCores", "-2"), newStore: js, error: "ConfigError", names: () => ["-2"], fix: /greater than 0/ },
  { id: "default-over-max", area: "cores", mistake: "--defaultCores above --maxCores", args: runOk("--maxCores", "1", "--defaultCores", "2"), newStore: js, error: "ConfigError", names: () => ["default of 2 cores"], fix: /exceeds maxCores \(1\)/ },
  // ---------------------------------------------------------------- config file
  { id: "config-unknown-key", area: "config-file", mistake: "a misspelled key in --config", args: runOk("--config", fx("config-unknown-key.yaml")), newStore: js, error: "ConfigError", names: () => ["retryCont"], fix: /did you mean "retryCount"\?/ },
  { id: "config-not-yaml", area: "config-file", mistake: "a config file that is not YAML", args: runOk("--config", fx("config-not-yaml.yaml")), newStore: js, error: "ConfigError", names: () => [fx("config-not-yaml.yaml"), "line 1"], fix: /toil config FILE` writes a valid template/ },
  { id: "config-list", area: "config-file", mistake: "a config file that is a list", args: runOk("--config", fx("config-list.yaml")), newStore: js, error: "ConfigError", names: () => [fx("config-list.yaml")], fix: /must be a mapping .*toil config FILE/ },
  { id: "config-bad-size", area: "config-file", mistake: "defaultMemory: 2XB in --config", args: runOk("--config", fx("config-bad-size.yaml")), newStore: js, error: "ConfigError", names: () => [`from ${fx("config-bad-size.yaml")}`, '"2XB"'], fix: /write e\.g\. 2G/ },
  { id: "config-missing", area: "config-file", mistake: "--config naming a file that does not exist", args: (c) => [...runOk()(c), "--config", path.join(c.dir, "toil.yaml")], newStore: js, error: "ConfigError", names: (c) => [path.join(c.dir, "toil.yaml")], fix: /check the --config path.*toil config FILE/ },
  { id: "config-write-no-dir", area: "config-file", mistake: "`toil config` into a directory that does not exist", args: (c) => ["config", path.join(c.dir, "no", "such", "toil.yaml")], error: "ConfigError", names: (c) => [path.join(c.dir, "no", "such")], fix: /mkdir -p/ },
  { id: "config-write-dir", area: "config-file", mistake: "`toil config` onto a directory", args: (c) => ["config", c.dir], error: "ConfigError", names: (c) => [c.dir], fix: /give a file name/ },
  // ---------------------------------------------------------------- requirements in the workflow
  { id: "req-2XB", area: "requirements", mistake: "requires({ memory: '2XB' })", args: run("req-bad-size.ts"), newStore: js, error: "InvalidRequirementError", names: () => ["Job 'step'", '"2XB"'], fix: /use B, K, M, G/ },
  { id: "req-cores-0", area: "requirements", mistake: "requires({ cores: 0 })", args: run("req-cores-zero.ts"), newStore: js, error: "InvalidRequirementError", names: () => ["Job 'step'", "cores requirement 0"], fix: /fraction such as 0\.1/ },
  { id: "req-cores-negative", area: "requirements", mistake: "requires({ cores: -2 })", args: run("req-cores-negative.ts"), newStore: js, error: "InvalidRequirementError", names: () => ["cores requirement -2"], fix: /positive number of cores/ },
  // A root job too big for the machine: nothing ran, so no store is left (exit 2), and the advice is what works here.
  { id: "req-memory-huge", area: "requirements", mistake: "a job asking for more memory than the machine has", args: run("req-memory-huge.ts"), newStore: js, error: "InsufficientSystemResources", names: () => ['Job "step"', "900 TiB"], fix: /Lower the job's memory, or run the workflow on a cluster batch system.*Nothing ran/s },
  { id: "req-cores-huge", area: "requirements", mistake: "a job asking for more cores than the machine has", args: run("req-cores-huge.ts"), newStore: js, error: "InsufficientSystemResources", names: () => ["cores = 4096", "whatever --maxCores says"], fix: /Lower the job's cores to \d+ or fewer, scale every job's cores down with --scale [\d.]+, or run the workflow on a cluster batch system/ },
  { id: "default-memory-huge", area: "requirements", mistake: "--defaultMemory larger than the machine", args: run("req-default-memory.ts", "--defaultMemory", "900Ti"), newStore: js, error: "InsufficientSystemResources", names: () => ["900 TiB"], fix: /Lower the job's memory, or run the workflow on a cluster batch system/ },
  // ---------------------------------------------------------------- workflow files
  { id: "workflow-missing", area: "workflow", mistake: "a workflow file that does not exist", args: (c) => ["run", "flow.ts", "--jobStore", js(c)], newStore: js, error: "WorkflowFileError", names: (c) => [path.join(c.dir, "flow.ts")], fix: /resolved against the current directory/ },
  { id: "workflow-throws", area: "workflow", mistake: "a workflow file that throws at import", args: run("throws-at-import.ts"), newStore: js, error: "WorkflowFileError", names: () => ["cannot read settings.json", `${fx("throws-at-import.ts")}:8`], fix: /Fix the workflow file/ },
  // (kept as .txt in the fixtures so the package's typecheck does not trip on it)
  { id: "workflow-syntax", area: "workflow", mistake: "a workflow file with a syntax error", setup: (c) => cpSync(fx("syntax-error.ts.txt"), path.join(c.dir, "flow.ts")), args: (c) => ["run", "flow.ts", "--jobStore", js(c)], newStore: js, error: "WorkflowFileError", names: (c) => [`${path.join(c.dir, "flow.ts")}:4`], fix: /Fix the workflow file/ },
  { id: "workflow-no-default", area: "workflow", mistake: "a workflow file without a default export", args: run("no-default.ts"), newStore: js, error: "WorkflowFileError", names: () => [fx("no-default.ts")], fix: /export default function main/ },
  { id: "workflow-default-object", area: "workflow", mistake: "a default export that is an object", args: run("default-not-function.ts"), newStore: js, error: "WorkflowFileError", names: () => ["default export is an object"], fix: /export default function main/ },
  { id: "workflow-main-throws", area: "workflow", mistake: "a default export that throws", args: run("main-throws.ts"), newStore: js, error: "WorkflowFileError", names: () => ["give the sample sheet", `${fx("main-throws.ts")}:9`], fix: /Fix the workflow file/ },
  { id: "workflow-returns-object", area: "workflow", mistake: "a default export that returns no job", args: run("returns-not-job.ts"), newStore: js, error: "ToilContextError", names: () => ["got Object"], fix: /Job\.wrapFn/ },
  // ---------------------------------------------------------------- job functions and the graph
  { id: "fn-not-exported", area: "graph", mistake: "a job function that is not exported", args: run("not-exported.ts"), newStore: js, error: "JobSerializationError", names: () => ["'hidden'"], fix: /export function hidden/ },
  { id: "fn-anonymous", area: "graph", mistake: "an anonymous function as a job", args: run("anonymous-fn.ts"), newStore: js, error: "JobSerializationError", names: () => ["anonymous function"], fix: /exported, named top-level function/ },
  { id: "graph-cycle", area: "graph", mistake: "a cyclic job graph", args: run("cycle.ts"), newStore: js, error: "JobGraphDeadlockError", names: () => ["'sort'", "'index'"], fix: /Remove one of these child\/follow-on edges/ },
  { id: "promise-too-early", area: "graph", mistake: "a promise consumed before it can be resolved", args: run("promise-early.ts"), newStore: js, error: "JobPromiseConstraintError", names: () => ["'consume'", "'produce'"], fix: /child or follow-on of 'produce'/ },
  // ---------------------------------------------------------------- job arguments
  { id: "arg-function", area: "job-args", mistake: "a function as a job argument", args: run("arg-function.ts"), newStore: js, error: "JobSerializationError", names: () => ["'notifySlack'", "args[0].onDone"], fix: /pass data, or make it a job/ },
  { id: "arg-socket", area: "job-args", mistake: "a socket as a job argument", args: run("arg-socket.ts"), newStore: js, error: "JobSerializationError", names: () => ["class Socket", "args[0]"], fix: /pass plain data/ },
  { id: "arg-circular", area: "job-args", mistake: "a circular structure as a job argument", args: run("arg-circular.ts"), newStore: js, error: "JobSerializationError", names: () => ["args[0].tree.parent"], fix: /break the cycle/ },
  // ---------------------------------------------------------------- job stores
  { id: "store-is-file", area: "job-store", mistake: "--jobStore naming a file", setup: (c) => writeFileSync(path.join(c.dir, "notes.txt"), "mine\n"), args: (c) => ["run", fx("ok.ts"), "--jobStore", "notes.txt"], error: "ConfigError", names: (c) => [path.join(c.dir, "notes.txt"), '"notes.txt"'], fix: /give a path that does not exist yet/ },
  { id: "store-foreign-dir", area: "job-store", mistake: "--jobStore naming a non-empty directory that is not a store", setup: (c) => { mkdirSync(path.join(c.dir, "data")); writeFileSync(path.join(c.dir, "data", "reads.fq"), "@r\n"); }, args: (c) => ["run", fx("ok.ts"), "--jobStore", path.join(c.dir, "data")], error: "ConfigError", names: (c) => [path.join(c.dir, "data")], fix: /give a path that does not exist yet/ },
  { id: "store-exists", area: "job-store", mistake: "starting again on an existing store", store: "copy", args: (c) => ["run", fx("ok.ts"), "--jobStore", c.store], error: "JobStoreStateError", names: (c) => [c.store], fix: /Use --restart .*toil clean/ },
  { id: "store-restart-missing", area: "job-store", mistake: "--restart on a store that does not exist", args: (c) => ["run", fx("ok.ts"), "--jobStore", js(c), "--restart"], newStore: js, error: "JobStoreStateError", names: (c) => [js(c)], fix: /Run without --restart/ },
  { id: "store-relative-elsewhere", area: "job-store", mistake: "a relative --jobStore used from another directory", store: "copy", setup: (c) => mkdirSync(path.join(c.dir, "elsewhere")), cwd: (c) => path.join(c.dir, "elsewhere"), args: () => ["run", fx("ok.ts"), "--jobStore", "store", "--restart"], error: "JobStoreStateError", names: (c) => ['"store"', path.join(c.dir, "elsewhere", "store")], fix: /pass the job store's absolute path/ },
  { id: "store-unknown-scheme", area: "job-store", mistake: "a job store URL scheme we do not support", args: () => ["run", fx("ok.ts"), "--jobStore", "s3://bucket/js"], error: "UnknownJobStoreKindError", names: () => ["'s3'"], fix: /Known kinds: file:/ },
  { id: "store-restart-bad-size", area: "job-store", mistake: "--restart with a malformed size", store: "copy", args: (c) => ["run", fx("ok.ts"), "--jobStore", c.store, "--restart", "--defaultMemory", "2XB"], error: "ConfigError", names: () => ['"2XB"'], fix: /write e\.g\. 2G/ },
  { id: "store-restart-bad-batch", area: "job-store", mistake: "--restart with an unknown batch system", store: "copy", args: (c) => ["run", fx("ok.ts"), "--jobStore", c.store, "--restart", "--batchSystem", "nosuch"], error: "UnknownBatchSystemError", names: () => ['"nosuch"'], fix: /toil-batch-nosuch/ },
  { id: "store-read-only-restart", area: "job-store", mistake: "--restart on a read-only job store", store: "read-only", unprivileged: true, args: (c) => ["run", fx("ok.ts"), "--jobStore", c.store, "--restart"], error: "ConfigError", names: (c) => [c.store, "read-only"], fix: /chmod -R u\+w/ },
  { id: "store-read-only-parent", area: "job-store", mistake: "a new store under a read-only directory", unprivileged: true, setup: (c) => { mkdirSync(path.join(c.dir, "ro")); if (IS_ROOT) chownSync(path.join(c.dir, "ro"), NOBODY, NOBODY); chmodSync(path.join(c.dir, "ro"), 0o555); }, args: (c) => ["run", fx("ok.ts"), "--jobStore", path.join(c.dir, "ro", "js")], newStore: (c) => path.join(c.dir, "ro", "js"), error: "ConfigError", names: (c) => [path.join(c.dir, "ro")], fix: /not writable .*chmod u\+w/ },
  // ---------------------------------------------------------------- operating commands
  { id: "status-missing", area: "ops", mistake: "`toil status` on a path with no store", args: (c) => ["status", js(c)], error: "OpsUsageError", names: (c) => [js(c)], fix: /Check the path/ },
  { id: "status-bad-flag", area: "ops", mistake: "`toil status` with an unknown flag", store: "copy", args: (c) => ["status", c.store, "--bogus"], error: "UsageError", names: () => ["--bogus"], fix: /toil status --help/ },
  { id: "debug-unknown-job", area: "ops", mistake: "`toil debug-job` with an unknown job", store: "copy", args: (c) => ["debug-job", c.store, "nosuchjob"], error: "OpsUsageError", names: () => ['"nosuchjob"'], fix: /toil status .* --perJob/ },
  // ---------------------------------------------------------------- batch systems and plugins
  { id: "batch-unknown", area: "batch-system", mistake: "an unknown batch system", args: runOk("--batchSystem", "nosuch"), newStore: js, error: "UnknownBatchSystemError", names: () => ['"nosuch"'], fix: /toil-batch-nosuch/ },
  { id: "plugin-wrong-default", area: "batch-system", mistake: "a plugin whose default export is an object", args: runOk("--batchSystem", fx("plugin-wrong-default.mjs")), newStore: js, error: "InvalidBatchSystemPluginError", names: () => [fx("plugin-wrong-default.mjs"), "default export is an object"], fix: /Export the batch system class as the module's default export/ },
  { id: "plugin-throws", area: "batch-system", mistake: "a plugin that throws when imported", args: runOk("--batchSystem", fx("plugin-throws.mjs")), newStore: js, error: "BatchSystemPluginLoadError", names: () => ["ECHO_ENDPOINT"], fix: /Fix the plugin/ },
  { id: "plugin-missing-file", area: "batch-system", mistake: "a plugin path that does not exist", args: (c) => [...runOk()(c), "--batchSystem", "./my-plugin.mjs"], newStore: js, error: "UnknownBatchSystemError", names: (c) => [path.join(c.dir, "my-plugin.mjs")], fix: /pass a module path/ },
  // ---------------------------------------------------------------- imports
  { id: "import-scheme", area: "import", mistake: "importing a URL scheme we do not support", args: (c) => [...run("import-url.ts")(c), "--", "ftp://example.org/reads.fq"], newStore: js, error: "InvalidImportExportUrlError", names: () => ["ftp://example.org/reads.fq", "'ftp:'"], fix: /schemes that can: .*file:/ },
  { id: "import-404", area: "import", mistake: "importing a URL that answers 404", args: (c) => [...run("import-url.ts")(c), "--", `${c.http}/missing/reads.fq`], newStore: js, error: "InvalidImportExportUrlError", names: (c) => [`${c.http}/missing/reads.fq`, "404"], fix: /Check the location the workflow imports/ },
];

const NO_STACK = /\n\s+at .+:\d+:\d+/;

let base: string;
let seed: string;
let server: Server;
let http = "";
let canDropPrivileges = !IS_ROOT;
let unprivilegedCli: string | undefined;
const results = new Map<string, { ctx: Ctx; result: CliResult; before?: Snapshot; after?: Snapshot; skipped?: string }>();

beforeAll(async () => {
  base = tempDir("toil-bad-input-");
  chmodSync(base, 0o755);
  server = createServer((req, res) => {
    res.statusCode = req.url?.startsWith("/missing/") ? 404 : 200;
    res.end(res.statusCode === 404 ? "not found" : "ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  http = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The store the store-taking rows copy: a small workflow whose second job fails (store kept).
  seed = path.join(base, "seed");
  const made = await runCli(["run", fx("seed.ts"), "--jobStore", seed, "--retryCount", "0", "--disableProgress"], { cwd: base });
  if (made.code !== 1 || !existsSync(path.join(seed, "format.json"))) {
    throw new Error(`the seed workflow should fail with exit 1 and keep its store; got ${made.code}:\n${made.stderr}`);
  }
  if (IS_ROOT) {
    // `nobody` may not be able to enter the checkout (a clone under a private directory), so the
    // unprivileged rows run the standalone leader (everything bundled) and the fixtures from copies
    // under the world-readable temp dir.
    unprivilegedCli = path.join(base, "toil-standalone", "toil.js");
    cpSync(path.join(REPO_ROOT, "apps", "leader", "dist", "standalone"), path.dirname(unprivilegedCli), { recursive: true });
    cpSync(FIXTURES, path.join(base, "fixtures"), { recursive: true });
    const probe = await runCli(["--help"], { cwd: base, uid: NOBODY, gid: NOBODY, cli: unprivilegedCli }).catch((err: Error) => ({ code: -1, stderr: err.message }) as CliResult);
    canDropPrivileges = probe.code === 0;
    if (!canDropPrivileges) console.warn(`bad-input: cannot run the CLI as uid ${NOBODY} (${probe.stderr.trim()}); read-only rows are skipped`);
  }

  // BAD_INPUT_ONLY=id,id runs only those rows (while working on them); the others then fail as not run.
  const only = process.env.BAD_INPUT_ONLY?.split(",");
  await pool(only ? rows.filter((r) => only.includes(r.id)) : rows, 4, async (row) => {
    const dir = path.join(base, row.id);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const ctx: Ctx = { dir, store: path.join(dir, "store"), http };
    if (row.unprivileged && !canDropPrivileges) {
      results.set(row.id, { ctx, result: { code: null, signal: null, stdout: "", stderr: "" }, skipped: "cannot drop privileges" });
      return;
    }
    if (row.store) {
      cpSync(seed, ctx.store, { recursive: true, preserveTimestamps: true });
      if (row.store === "read-only") makeReadOnly(ctx.store, IS_ROOT ? NOBODY : undefined, IS_ROOT ? NOBODY : undefined);
    }
    row.setup?.(ctx);
    const before = row.store ? snapshotTree(ctx.store) : undefined;
    const asNobody = row.unprivileged && IS_ROOT;
    const args = asNobody ? row.args(ctx).map((a) => (a.startsWith(FIXTURES) ? path.join(base, "fixtures", a.slice(FIXTURES.length)) : a)) : row.args(ctx);
    const result = await runCli(args, {
      cwd: row.cwd?.(ctx) ?? dir,
      ...(row.env ? { env: row.env } : {}),
      ...(asNobody ? { uid: NOBODY, gid: NOBODY, cli: unprivilegedCli } : {}),
    });
    const after = row.store ? snapshotTree(ctx.store) : undefined;
    results.set(row.id, { ctx, result, ...(before ? { before } : {}), ...(after ? { after } : {}) });
  });
  recordFigure({ suite: "bad-input", name: "bad inputs tried", value: [...results.values()].filter((r) => !r.skipped).length });
}, 900_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  if (base) rmSync(base, { recursive: true, force: true });
});

describe("bad input through the toil CLI", () => {
  test("the table has a row for every area the issue names", () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.area))).toEqual(
      new Set(["cli", "size", "cores", "config-file", "requirements", "workflow", "graph", "job-args", "job-store", "batch-system", "import", "ops"]),
    );
  });

  test.for(rows.map((r) => [`${r.area}: ${r.mistake} (${r.id})`, r] as const))("%s", ([, row], context) => {
    const entry = results.get(row.id);
    expect(entry, "the row ran").toBeDefined();
    // A row that could not run is reported as skipped, never as passed.
    if (entry!.skipped) context.skip(`bad-input row ${row.id}: ${entry!.skipped}`);
    const { ctx, result } = entry!;
    const output = `exit ${result.code}\n--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`;
    const err = parseCliError(result.stderr);
    expect(err, `an error line 'toil ...: error [Name]: ...' in:\n${output}`).toBeDefined();
    expect(err!.name, output).toBe(row.error);
    expect(err!.message.trimEnd(), `the error is one line:\n${output}`).not.toContain("\n");
    expect(result.code, output).toBe(row.exit ?? 2);
    for (const value of row.names(ctx)) expect(err!.message, `the message names ${value}`).toContain(value);
    expect(err!.message).toMatch(row.fix);
    expect(result.stderr, "no stack trace for a user mistake").not.toMatch(NO_STACK);
    expect(result.stdout, "nothing on stdout (no result printed)").toBe("");
    if (entry!.before) {
      expect(diffSnapshots(entry!.before, entry!.after!), "the existing job store is unchanged").toEqual([]);
    }
    if (row.newStore) {
      const where = row.newStore(ctx);
      if (row.storeKept) {
        expect(existsSync(path.join(where, "format.json")), "the store is kept, as the message says").toBe(true);
        expect(err!.message).toContain(`The job store ${where} was kept`);
      } else {
        expect(existsSync(where), `nothing is left at ${where}`).toBe(false);
      }
    }
  });
});
