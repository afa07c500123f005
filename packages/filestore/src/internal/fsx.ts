/**
 * Small filesystem helpers shared by the job store and the file stores: owner-only permissions,
 * atomic replace (temp file + rename in the same directory), batched durability.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { JobStoreFullError } from "../errors.js";

/** Directories the store creates: owner-only. */
export const DIR_MODE = 0o700;
/** Files the store creates: owner read/write; executable files add owner execute. */
export const FILE_MODE = 0o600;
export const EXEC_FILE_MODE = 0o700;

/** Marker inside temp-file names; anything containing it is a write in progress (or debris of a crash). */
export const TEMP_MARK = ".tmp-";

// Unique per process (pid plus a random part, in case a pid is reused) and per call (a counter):
// cheaper than random bytes for every write.
const tempPrefix = `${process.pid}-${randomBytes(4).toString("hex")}-`;
let tempCounter = 0;

export function tempNameFor(target: string): string {
  return `${target}${TEMP_MARK}${tempPrefix}${(tempCounter++).toString(36)}`;
}

export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARK);
}

export function mkdirp(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw asNoSpace(err, dir);
  }
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === "object" && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? "");
}

/**
 * `err` as a {@link JobStoreFullError} naming `file` when the filesystem is full (ENOSPC) or over
 * quota (EDQUOT); any other error unchanged. Every write path of the store converts through this,
 * so a full disk reads the same everywhere (which file, what to do).
 */
export function asNoSpace(err: unknown, file: string): unknown {
  if (err instanceof JobStoreFullError) return err;
  // Name the file being written, not its temp file.
  const named = file.includes(TEMP_MARK) ? file.slice(0, file.indexOf(TEMP_MARK)) : file;
  return isErrno(err, "ENOSPC", "EDQUOT") ? new JobStoreFullError(named, err as NodeJS.ErrnoException) : err;
}

/**
 * Test seam for machines where a small filesystem cannot be mounted: while the file named by the
 * environment variable `TOIL_FILESTORE_FULL_DISK_FLAG` exists, every write the job store makes fails
 * with ENOSPC, at the same points a full filesystem makes it fail. Unset (always, outside tests), it
 * costs one environment lookup per write.
 */
export function failIfDiskFullInjected(file: string): void {
  const flag = process.env.TOIL_FILESTORE_FULL_DISK_FLAG;
  if (!flag || !fs.existsSync(flag)) return;
  throw Object.assign(new Error(`ENOSPC: no space left on device (injected: ${flag} exists), write '${file}'`), {
    code: "ENOSPC",
    errno: -28,
    syscall: "write",
    path: file,
  });
}

/** fsync a directory so that entries created or renamed in it survive a machine crash. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (err) {
    // Some filesystems refuse fsync on directories (EINVAL); nothing more can be done there.
    if (!isErrno(err, "EINVAL", "EISDIR", "EBADF")) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** fdatasync a file by path (content durable before a later rename makes it visible). */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Above this many paths, one filesystem-wide sync is cheaper than one fdatasync per file. */
const SYNCFS_THRESHOLD = 24;
let syncfsWorks: boolean | undefined;

/**
 * Make the given files' data (and the given directories' entries) durable. Small groups get one
 * fdatasync per path; large groups one `syncfs` of the filesystem (through coreutils `sync -f`),
 * falling back to per-path syncs where that tool is unavailable.
 */
export function syncPaths(files: readonly string[], dirs: readonly string[] = []): void {
  const total = files.length + dirs.length;
  if (total === 0) return;
  if (total > SYNCFS_THRESHOLD && syncfsWorks !== false) {
    const probe = files[0] ?? dirs[0]!;
    try {
      // node:child_process is loaded only here (it costs every process start a few milliseconds).
      process.getBuiltinModule("node:child_process").execFileSync("sync", ["-f", probe], { stdio: "ignore" });
      syncfsWorks = true;
      return;
    } catch {
      syncfsWorks = false;
    }
  }
  for (const f of files) fsyncFile(f);
  for (const d of new Set(dirs)) fsyncDir(d);
}

/**
 * {@link syncPaths} without blocking the event loop, and with the per-path syncs issued at once:
 * the filesystem commits concurrent syncs together, so a group costs about one sync, not one each.
 */
export async function syncPathsAsync(files: readonly string[], dirs: readonly string[] = []): Promise<void> {
  const total = files.length + dirs.length;
  if (total === 0) return;
  if (total > SYNCFS_THRESHOLD) {
    // Many paths: one filesystem-wide sync (rare: a job that creates many jobs at once).
    syncPaths(files, dirs);
    return;
  }
  if (total === 1) {
    // One path: a blocking sync costs less than a trip through the thread pool.
    syncPaths(files, dirs);
    return;
  }
  await Promise.all([...files.map((f) => syncOne(f, true)), ...[...new Set(dirs)].map((d) => syncOne(d, false))]);
}

/** fdatasync (a file) or fsync (a directory) on the thread pool; plain callbacks (FileHandle costs more). */
function syncOne(file: string, data: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(file, "r", (openErr, fd) => {
      if (openErr) return reject(openErr);
      const done = (syncErr: NodeJS.ErrnoException | null) =>
        fs.close(fd, () => {
          if (syncErr && (data || !isErrno(syncErr, "EINVAL", "EISDIR", "EBADF"))) reject(syncErr);
          else resolve();
        });
      if (data) fs.fdatasync(fd, done);
      else fs.fsync(fd, done);
    });
  });
}

/**
 * Write `data` to `target` atomically: a temp file in the same directory, fdatasync'd when `durable`,
 * then renamed over the target. A crash leaves either the old content or the new, never a mix.
 */
export function writeFileAtomicSync(
  target: string,
  data: string | Uint8Array,
  options: { durable: boolean; mode?: number },
): void {
  const tmp = tempNameFor(target);
  let fd: number | undefined;
  try {
    failIfDiskFullInjected(target);
    fd = fs.openSync(tmp, "wx", options.mode ?? FILE_MODE);
    fs.writeFileSync(fd, data);
    if (options.durable) fs.fdatasyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw asNoSpace(err, target);
  }
}

/** Read a file, returning undefined if it does not exist. */
export function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw err;
  }
}

/** The names in a directory, or undefined if it does not exist. */
export function listIfExists(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return undefined;
    throw err;
  }
}

/** True if `child` (already resolved) is `root` or inside it. */
export function isWithin(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
