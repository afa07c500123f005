/**
 * Error codes: every toil-ts error class has its own code in one style, each package README lists
 * its codes, and the `toil` command's exit code follows from the code, also for an error made by
 * another copy of the packages (a batch plugin that brings its own), which `instanceof` misses.
 */
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import * as batchCore from "@toil/batch-core";
import * as batchLocal from "@toil/batch-local";
import * as batchSlurm from "@toil/batch-slurm";
import * as bus from "@toil/bus";
import * as cwl from "@toil/cwl";
import * as filestore from "@toil/filestore";
import * as job from "@toil/job";
import * as leader from "../src/index.js";
import { EXIT } from "../src/cli/io.js";
import { CWL_EXIT_BY_CODE, CWL_EXIT_UNSUPPORTED, OPS_EXIT_BY_CODE, RUN_EXIT_BY_CODE, cwlExitCode, opsExitCode, runExitCode } from "../src/cli/exit-codes.js";
import { describeOpsError, LeaderRunningError, OpsUsageError } from "../src/ops/common.js";
import { OPS_EXIT } from "../src/ops/exit-codes.js";
import { REPO_ROOT, tempDir } from "./e2e/helpers.js";

type ErrorClass = typeof bus.ToilError;

/** Each package's exported error classes, the namespace of their codes and their README. */
const PACKAGES: ReadonlyArray<{ name: string; namespace: string; readme: string; exports: Record<string, unknown> }> = [
  { name: "@toil/bus", namespace: "BUS", readme: "packages/bus/README.md", exports: bus },
  { name: "@toil/job", namespace: "JOB", readme: "packages/job/README.md", exports: job },
  { name: "@toil/filestore", namespace: "FILESTORE", readme: "packages/filestore/README.md", exports: filestore },
  { name: "@toil/batch-core", namespace: "BATCH", readme: "packages/batch-core/README.md", exports: batchCore },
  { name: "@toil/batch-local", namespace: "BATCH", readme: "packages/batch-local/README.md", exports: batchLocal },
  { name: "@toil/batch-slurm", namespace: "SLURM", readme: "packages/batch-slurm/README.md", exports: batchSlurm },
  { name: "@toil/cwl", namespace: "CWL", readme: "packages/cwl/README.md", exports: cwl },
  {
    name: "@toil/leader",
    namespace: "LEADER",
    readme: "apps/leader/README.md",
    // The operating commands' two errors are internal to the CLI, but their codes decide exit codes too.
    exports: { ...leader, OpsUsageError, LeaderRunningError },
  },
];

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === "function" && (value === bus.ToilError || value.prototype instanceof bus.ToilError);
}

/** Every error class once, with the package that defines it (the first that exports it, lowest first). */
function errorClasses(): Array<{ cls: ErrorClass; pkg: (typeof PACKAGES)[number] }> {
  const seen = new Set<unknown>();
  const out: Array<{ cls: ErrorClass; pkg: (typeof PACKAGES)[number] }> = [];
  for (const pkg of PACKAGES) {
    for (const value of Object.values(pkg.exports)) {
      if (!isErrorClass(value) || seen.has(value)) continue;
      seen.add(value);
      out.push({ cls: value, pkg });
    }
  }
  return out;
}

describe("error codes", () => {
  test("every error class sets its own code, <PACKAGE>_<WHAT>, namespaced by the package that defines it", () => {
    const classes = errorClasses();
    expect(classes.length).toBeGreaterThan(50);
    const byCode = new Map<string, string>();
    for (const { cls, pkg } of classes) {
      const namespace = cls === bus.ToilError ? "TOIL" : pkg.namespace;
      expect(Object.hasOwn(cls, "code"), `${cls.name} sets no code of its own`).toBe(true);
      expect(cls.code, cls.name).toMatch(new RegExp(`^${namespace}_[A-Z0-9]+(?:_[A-Z0-9]+)*$`));
      expect(byCode.get(cls.code), `${cls.name} and ${byCode.get(cls.code)} share the code ${cls.code}`).toBeUndefined();
      byCode.set(cls.code, cls.name);
    }
  });

  test("each package README lists the code of each of its error classes", () => {
    for (const { cls, pkg } of errorClasses()) {
      const readme = readFileSync(path.join(REPO_ROOT, pkg.readme), "utf8");
      expect(readme.includes(`\`${cls.code}\``), `${pkg.readme} does not list ${cls.name} (${cls.code})`).toBe(true);
    }
  });

  test("an error carries its class's code; a subclass without its own inherits its parent's", () => {
    expect(new filestore.NoSuchJobError("j1").code).toBe("FILESTORE_NO_SUCH_JOB");
    expect(new filestore.DamagedJobError("j1", "/js/jobs/j1", "is empty").code).toBe("FILESTORE_DAMAGED_JOB");
    class PluginError extends batchCore.BatchSystemError {}
    expect(new PluginError("the plugin broke").code).toBe("BATCH_ERROR");
    expect(new bus.ToilError("plain").code).toBe("TOIL_ERROR");
  });

  test("retryable: false on the errors a retry of the same code cannot fix; the option overrides the class", () => {
    expect(new job.JobSerializationError("cannot store a function").retryable).toBe(false);
    expect(job.cannotSucceedOnRetry(new job.JobSerializationError("cannot store a function"))).toBe(true);
    expect(job.cannotSucceedOnRetry(new job.InvalidRequirementError("memory", "lots", "j", "not a size"))).toBe(true);
    expect(new job.UnresolvedPromiseError("j1").retryable).toBeUndefined();
    expect(job.cannotSucceedOnRetry(new job.UnresolvedPromiseError("j1"))).toBe(false);
    expect(job.cannotSucceedOnRetry(new Error("anything else"))).toBe(false);
    expect(new bus.ToilError("bad input", { retryable: false }).retryable).toBe(false);
    expect(new job.JobSerializationError("x").message).toBe("x");
    const cause = new Error("disk");
    expect(new bus.ToilError("wrapped", { cause }).cause).toBe(cause);
  });
});

/** A second copy of @toil/bus (its built files in another node_modules), loaded next to the one the CLI uses. */
async function secondCopyOfBus(): Promise<typeof bus> {
  const built = path.join(REPO_ROOT, "packages", "bus", "dist");
  const copy = path.join(tempDir("toil-bus-copy-"), "node_modules", "@toil", "bus");
  mkdirSync(copy, { recursive: true });
  cpSync(built, path.join(copy, "dist"), { recursive: true });
  cpSync(path.join(REPO_ROOT, "packages", "bus", "package.json"), path.join(copy, "package.json"));
  return (await import(pathToFileURL(path.join(copy, "dist", "index.js")).href)) as typeof bus;
}

describe("exit codes by error code", () => {
  test("toil run: the codes with a fixed exit code, and any other toil-ts error before and after the workflow started", () => {
    expect(runExitCode(new leader.WorkflowInterruptedError("stopped by SIGTERM", "SIGTERM"), true)).toBe(EXIT.INTERRUPTED);
    expect(runExitCode(new leader.FailedJobsError("/js", []), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(runExitCode(new leader.DeadlockError("only services"), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(runExitCode(new leader.WorkflowKilledError("killed"), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(runExitCode(new job.ConfigError("bad --maxCores"), false)).toBe(EXIT.USAGE);
    expect(runExitCode(new job.ConfigError("bad --maxCores"), true)).toBe(EXIT.WORKFLOW_FAILED);
    expect(runExitCode(new TypeError("a bug"), false)).toBe(EXIT.WORKFLOW_FAILED);
  });

  test("operating commands: a leader running is 3, any other toil-ts error 2, anything else 4", () => {
    expect(opsExitCode(new LeaderRunningError("a leader runs it"))).toBe(OPS_EXIT.BUSY);
    expect(opsExitCode(new OpsUsageError("no such store"))).toBe(OPS_EXIT.USAGE);
    expect(opsExitCode(new filestore.NoSuchJobError("j1"))).toBe(OPS_EXIT.USAGE);
    // A system error carries a code too, but is not a toil-ts error.
    expect(opsExitCode(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" }))).toBe(OPS_EXIT.INTERNAL);
    expect(describeOpsError(new TypeError("a bug")).user).toBe(false);
  });

  test("toil cwl: 33 for an unsupported feature, 1 for any other CWL error, 3 when interrupted", () => {
    expect(cwlExitCode(new cwl.UnsupportedCwlFeatureError("scatter", "scatter is not supported yet."), false)).toBe(CWL_EXIT_UNSUPPORTED);
    expect(cwlExitCode(new cwl.CwlDocumentError("not CWL"), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(cwlExitCode(new cwl.CwlTemporaryFailureError("exit 75", 75), true)).toBe(EXIT.WORKFLOW_FAILED);
    expect(cwlExitCode(new leader.WorkflowInterruptedError("stopped by SIGINT", "SIGINT"), true)).toBe(EXIT.INTERRUPTED);
    expect(cwlExitCode(new job.ConfigError("bad --maxCores"), false)).toBe(EXIT.USAGE);
    expect(cwlExitCode(new leader.FailedJobsError("/js", []), true)).toBe(EXIT.WORKFLOW_FAILED);
    expect(cwlExitCode(new TypeError("a bug"), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(new cwl.CwlInputError("missing input").retryable).toBe(false);
    expect(new cwl.CwlTemporaryFailureError("exit 75", 75).retryable).toBe(true);
  });

  test("the fixed exit codes are those of classes that exist", () => {
    const codes = new Set(errorClasses().map(({ cls }) => cls.code));
    const fixed = [...Object.keys(RUN_EXIT_BY_CODE), ...Object.keys(OPS_EXIT_BY_CODE), ...Object.keys(CWL_EXIT_BY_CODE)];
    for (const code of fixed) expect(codes, code).toContain(code);
  });

  test("an error from another copy of the packages maps to the same exit code as one from this copy", async () => {
    const other = await secondCopyOfBus();
    expect(other.ToilError).not.toBe(bus.ToilError);

    // A real error class of the other copy: a bad input of an operating command.
    const missingLog = new other.BusLogNotFoundError("/js/bus.log");
    expect(missingLog instanceof bus.ToilError, "instanceof cannot see it").toBe(false);
    expect(bus.isToilError(missingLog)).toBe(true);
    expect(opsExitCode(missingLog)).toBe(OPS_EXIT.USAGE);
    expect(describeOpsError(missingLog)).toEqual({ exitCode: OPS_EXIT.USAGE, message: missingLog.message, user: true });
    expect(runExitCode(missingLog, false)).toBe(EXIT.USAGE);
    expect(runExitCode(missingLog, true)).toBe(EXIT.WORKFLOW_FAILED);

    // Classes of the other copy with the codes that have fixed exit codes.
    const ofCode = (code: string) =>
      class extends other.ToilError {
        static override readonly code: string = code;
      };
    const Interrupted = ofCode("LEADER_INTERRUPTED");
    const FailedJobs = ofCode("LEADER_FAILED_JOBS");
    const Running = ofCode("LEADER_RUNNING");
    expect(runExitCode(new Interrupted("stopped by SIGINT"), true)).toBe(EXIT.INTERRUPTED);
    expect(runExitCode(new FailedJobs("2 jobs failed"), false)).toBe(EXIT.WORKFLOW_FAILED);
    expect(opsExitCode(new Running("a leader runs it"))).toBe(OPS_EXIT.BUSY);
    expect(cwlExitCode(new (ofCode("CWL_UNSUPPORTED"))("scatter is not supported yet."), true)).toBe(CWL_EXIT_UNSUPPORTED);

    // The other copy's cannotSucceedOnRetry counterpart: retryable is read the same way.
    expect(job.cannotSucceedOnRetry(new other.ToilError("bad job", { retryable: false }))).toBe(true);
  });
});
