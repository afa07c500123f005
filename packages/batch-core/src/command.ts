import type { BatchJobDescription, Environment } from "./batch-system.js";
import { BatchCommandError } from "./errors.js";
import { shellQuote, singleQuote } from "./shell-words.js";

/**
 * The display (and shell) form of an argument array: each word quoted with {@link shellQuote}.
 * A POSIX shell running this line executes exactly `argv`, so a batch system that can only
 * hand a command line to a shell stays correct. Refuses words a process cannot receive (NUL).
 *
 * @example shellCommand(["node", "/opt/worker.js", "./my store; rm -rf ~", "abc"])
 * // "node /opt/worker.js './my store; rm -rf ~' abc"
 */
export function shellCommand(argv: readonly string[]): string {
  checkArgv(argv);
  // A first word with "=" would be read as a variable assignment: always quote it then.
  return argv.map((w, i) => (i === 0 && w.includes("=") ? singleQuote(w) : shellQuote(w))).join(" ");
}

/**
 * Checks that an argument array can be executed as it is: at least one word, every word a
 * string without a NUL byte (the kernel ends an argument at NUL, so it could not arrive literally).
 * Throws {@link BatchCommandError} naming the bad word otherwise.
 */
export function checkArgv(argv: readonly string[], jobName?: string): void {
  const who = jobName === undefined ? "The command" : `The command of job "${jobName}"`;
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new BatchCommandError(`${who} is an empty argument array; pass at least the program to run.`);
  }
  argv.forEach((word, i) => {
    if (typeof word !== "string") {
      throw new BatchCommandError(`${who} has a non-string argument ${i} (${String(word)}); every argument must be a string.`);
    }
    if (word.includes("\0")) {
      throw new BatchCommandError(
        `${who} has a NUL byte in argument ${i} (${JSON.stringify(word)}); a process cannot receive it. Remove the NUL byte.`,
      );
    }
  });
}

/**
 * Checks environment variables before they are given to a job: names must be non-empty and
 * free of `=` and NUL, values free of NUL. Throws {@link BatchCommandError} naming the variable.
 */
export function checkEnvironment(env: Environment | undefined, jobName?: string): void {
  if (!env) return;
  const where = jobName === undefined ? "" : ` of job "${jobName}"`;
  for (const [name, value] of Object.entries(env)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw new BatchCommandError(
        `Environment variable name ${JSON.stringify(name)}${where} is not valid: names must be non-empty and contain no "=" or NUL.`,
      );
    }
    if (typeof value !== "string") {
      throw new BatchCommandError(`Environment variable ${name}${where} has a non-string value (${String(value)}); pass a string.`);
    }
    if (value.includes("\0")) {
      throw new BatchCommandError(
        `Environment variable ${name}${where} has a NUL byte in its value (${JSON.stringify(value)}); a process cannot receive it.`,
      );
    }
  }
}

/**
 * What a batch system executes for an issued job. When the job description carries `argv` (the
 * leader always sets it), that exact array, to be run WITHOUT a shell; otherwise the command
 * string is a shell command line chosen by the caller, run as `["/bin/sh", "-c", command]`.
 * Validates the array (see {@link checkArgv}).
 *
 * @example
 * const [file, ...args] = batchJobArgv(command, jobDesc);
 * spawn(file, args, { env }); // never `{ shell: true }`
 */
export function batchJobArgv(command: string, jobDesc: Pick<BatchJobDescription, "argv" | "jobName">): string[] {
  if (jobDesc.argv !== undefined) {
    checkArgv(jobDesc.argv, jobDesc.jobName);
    return [...jobDesc.argv];
  }
  if (typeof command !== "string" || command.trim() === "") {
    throw new BatchCommandError(`Job "${jobDesc.jobName}" has an empty command; pass a command line or jobDesc.argv.`);
  }
  if (command.includes("\0")) {
    throw new BatchCommandError(`The command of job "${jobDesc.jobName}" has a NUL byte; a shell cannot receive it.`);
  }
  return ["/bin/sh", "-c", command];
}
