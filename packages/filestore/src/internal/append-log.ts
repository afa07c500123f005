/**
 * Append-only JSON-lines logs shared by many processes (the job-state index, the logs/stats journal).
 *
 * Each append is one write(2) on an O_APPEND descriptor, starting with a newline: concurrent
 * appenders never interleave inside a write on a local filesystem, and a write cut short by SIGKILL
 * leaves a torn line that the next appender's leading newline isolates. Readers skip empty and
 * unparsable lines, so a torn line costs only itself.
 */
import * as fs from "node:fs";
import { FILE_MODE, asNoSpace, failIfDiskFullInjected, isErrno } from "./fsx.js";

/**
 * Append `records` (one JSON line each) in one write. With `create` false the log must already
 * exist (returns false if it does not: the log is not kept for this store).
 */
export function appendRecords(file: string, records: readonly unknown[], create = false): boolean {
  if (records.length === 0) return true;
  let text = "\n";
  for (const r of records) text += `${JSON.stringify(r)}\n`;
  const flags = fs.constants.O_WRONLY | fs.constants.O_APPEND | (create ? fs.constants.O_CREAT : 0);
  let fd: number;
  try {
    failIfDiskFullInjected(file);
    fd = fs.openSync(file, flags, FILE_MODE);
  } catch (err) {
    if (!create && isErrno(err, "ENOENT")) return false;
    throw asNoSpace(err, file);
  }
  try {
    const buf = Buffer.from(text, "utf8");
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    // A short append leaves a torn line, which readers skip and the next append's newline isolates.
    throw asNoSpace(err, file);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Every parsable record of the log, in order; undefined if the log does not exist. `onUnparsable`
 * sees each complete line that is not JSON (a torn line, or damage).
 */
export function readRecords<T>(file: string, onUnparsable?: (line: string) => void): T[] | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  const out: T[] = [];
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf("\n", start);
    if (end === -1) end = raw.length;
    if (end > start) {
      try {
        out.push(JSON.parse(raw.slice(start, end)) as T);
      } catch {
        // A torn line.
        onUnparsable?.(raw.slice(start, end));
      }
    }
    start = end + 1;
  }
  return out;
}
