/**
 * The crash test's record of what its writers did: one JSON entry per line, an intent before each
 * operation and a done after it, appended by every writer of a lane in turn and replayed by the
 * test after each kill.
 *
 * SIGKILL can cut an append short: write(2) stops at a page boundary once a fatal signal is
 * pending, so the log may end in a torn line. An entry appended straight after it would join the
 * fragment, fail to parse and vanish from the model; when that entry was the next writer's deletion
 * of a job, the job looked lost by the store. So every entry starts on a line of its own (a leading
 * newline isolates a torn fragment), as the store's own shared append logs do.
 */
import * as fs from "node:fs";

/** One line of the log: an operation about to start, or the end of the one before it. */
export type OpsEntry = { t: "intent"; op: string; [k: string]: unknown } | { t: "done"; id?: string };

/** Append `entry` on a line of its own. */
export function appendEntry(file: string, entry: OpsEntry): void {
  fs.appendFileSync(file, `\n${JSON.stringify(entry)}\n`);
}

/** Every whole entry of the log, in order (empty lines and torn fragments are skipped). */
export function readEntries(file: string): OpsEntry[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const entries: OpsEntry[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      entries.push(JSON.parse(line) as OpsEntry);
    } catch {
      /* a fragment torn by a kill */
    }
  }
  return entries;
}

/** Ids of the files whose writes the log records as done (what later writers may update). */
export function writtenFileIds(entries: readonly OpsEntry[]): string[] {
  const ids: string[] = [];
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    const before = entries[i - 1]!;
    if (e.t === "done" && e.id !== undefined && before.t === "intent" && before.op === "writeFile") ids.push(e.id);
  }
  return ids;
}
