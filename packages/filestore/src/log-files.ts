/** `writeLogFiles`: write a job's log lines to a file in the user's `--writeLogs` directory. */
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";

/** Options of {@link writeLogFiles}. */
export interface WriteLogFilesOptions {
  /** Prefix the name with `failed_`. */
  failed?: boolean;
  /** Write `.log.gz` (gzip) instead of `.log`. */
  gzip?: boolean;
}

/** The file-name stem for a job's stats name: `-`→`--`, `/`→`-`, space→`_`, quotes dropped, rest sanitized. */
export function logFileStem(jobName: string): string {
  return jobName
    .replace(/-/g, "--")
    .replace(/\//g, "-")
    .replace(/ /g, "_")
    .replace(/['"]/g, "")
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 200) || "job";
}

/**
 * Write `lines` (each ends with a newline unless it already has one) to
 * `<dir>/[failed_]<stem>_<NNN>.log[.gz]` with the first free counter. Further names (jobs chained
 * into the first) get symlinks to the same file. Returns the path written.
 */
export function writeLogFiles(
  dir: string,
  jobNames: readonly string[],
  lines: readonly (string | Uint8Array)[],
  options: WriteLogFilesOptions = {},
): string {
  if (jobNames.length === 0) throw new Error("writeLogFiles needs at least one job name");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ext = options.gzip ? ".log.gz" : ".log";
  const prefix = options.failed ? "failed_" : "";
  const body = Buffer.concat(
    lines.map((l) => {
      const b = typeof l === "string" ? Buffer.from(l, "utf8") : Buffer.from(l);
      return b.length > 0 && b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from("\n")]);
    }),
  );
  const data = options.gzip ? gzipSync(body) : body;
  const claim = (stem: string, make: (p: string) => void): string => {
    for (let n = 0; ; n++) {
      const p = path.join(dir, `${prefix}${stem}_${String(n).padStart(3, "0")}${ext}`);
      try {
        make(p);
        return p;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
  };
  const first = claim(logFileStem(jobNames[0]!), (p) => fs.writeFileSync(p, data, { flag: "wx", mode: 0o600 }));
  for (const name of jobNames.slice(1)) claim(logFileStem(name), (p) => fs.symlinkSync(path.basename(first), p));
  return first;
}
