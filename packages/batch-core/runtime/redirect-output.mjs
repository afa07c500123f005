// How a batch plugin's runtime script (a warm host, a Slurm worker host or pack runner) sends its
// own stdout or stderr to a job's log file while that job runs inside the process: every write
// goes to the file, synchronously (so nothing is lost if the job ends the process), until restored.
//
//   import { redirectOutput } from "@toil/batch-core/runtime/redirect-output.mjs";
//   const restore = redirectOutput(process.stdout, "/path/job.out");
//   try { await runTheJob(); } finally { restore(); }
import { closeSync, openSync, writeSync } from "node:fs";

/**
 * Appends everything written to `stream` (process.stdout or process.stderr) to the file at `path`,
 * created with `mode` (before the umask) if it does not exist. Returns the function that gives the
 * stream back its own writes and closes the file. Without a path, nothing changes.
 */
export function redirectOutput(stream, path, mode = 0o666) {
  if (!path) return () => {};
  const fd = openSync(path, "a", mode);
  const original = stream.write;
  stream.write = function (chunk, encoding, cb) {
    if (typeof encoding === "function") {
      cb = encoding;
      encoding = undefined;
    }
    writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk, encoding || "utf8") : chunk);
    if (cb) process.nextTick(cb);
    return true;
  };
  return () => {
    stream.write = original;
    closeSync(fd);
  };
}
