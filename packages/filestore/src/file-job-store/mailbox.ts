/**
 * The logs/stats mailbox of a file job store: workers post messages (`logs/inbox/<stamp>`), the
 * leader claims each once by moving it to `logs/archive/`, and every message is also appended to
 * `logs/journal.jsonl` for tools that read without claiming.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { appendRecords, readRecords } from "../internal/append-log.js";
import { isErrno, isTempName, readIfExists, writeFileAtomicSync } from "../internal/fsx.js";
import type { MailboxMessage } from "../job-store.js";
import { LOG_JOURNAL, type StoreLayout } from "./layout.js";

/** The mailbox of one store. */
export class Mailbox {
  private counter = 0;

  constructor(
    private readonly layout: StoreLayout,
    private readonly durable: boolean,
  ) {}

  async writeLogs(message: string | Uint8Array): Promise<void> {
    const name = `${Date.now().toString().padStart(15, "0")}-${process.pid}-${(this.counter++).toString().padStart(8, "0")}-${randomBytes(4).toString("hex")}`;
    writeFileAtomicSync(this.layout.p("logs", "inbox", name), message, { durable: this.durable });
    const data = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
    const text = data.toString("utf8");
    const record = Buffer.from(text, "utf8").equals(data) ? { t: Date.now(), m: text } : { t: Date.now(), b: data.toString("base64") };
    appendRecords(this.layout.p(...LOG_JOURNAL), [record]);
  }

  async peekLogs(callback: (message: MailboxMessage) => void): Promise<number> {
    const records = readRecords<{ t: number; m?: string; b?: string }>(this.layout.p(...LOG_JOURNAL));
    let count = 0;
    if (records !== undefined) {
      for (const r of records) {
        if (typeof r?.t !== "number") continue;
        const data = typeof r.m === "string" ? Buffer.from(r.m, "utf8") : typeof r.b === "string" ? Buffer.from(r.b, "base64") : undefined;
        if (data === undefined) continue;
        callback({ data, writtenAt: r.t });
        count++;
      }
      return count;
    }
    // A store without a journal (older version): read both mailbox directories in place.
    const names: [string, string][] = [];
    for (const box of ["archive", "inbox"]) {
      try {
        for (const n of fs.readdirSync(this.layout.p("logs", box))) if (!isTempName(n)) names.push([n, box]);
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
      }
    }
    names.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [n, box] of names) {
      const raw = readIfExists(this.layout.p("logs", box, n)) ?? (box === "inbox" ? readIfExists(this.layout.p("logs", "archive", n)) : undefined);
      if (raw === undefined) continue;
      callback({ data: raw, writtenAt: Number(n.slice(0, n.indexOf("-"))) || 0 });
      count++;
    }
    return count;
  }

  async readLogs(callback: (message: Buffer) => void, readAll = false): Promise<number> {
    let count = 0;
    if (readAll) {
      for (const n of fs.readdirSync(this.layout.p("logs", "archive")).filter((n) => !isTempName(n)).sort()) {
        const raw = readIfExists(this.layout.p("logs", "archive", n));
        if (raw !== undefined) {
          callback(raw);
          count++;
        }
      }
    }
    for (const n of fs.readdirSync(this.layout.p("logs", "inbox")).filter((n) => !isTempName(n)).sort()) {
      const archived = this.layout.p("logs", "archive", n);
      try {
        // Claim by moving to the archive: a message is handed out once even with two readers.
        fs.renameSync(this.layout.p("logs", "inbox", n), archived);
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue;
        throw err;
      }
      const raw = readIfExists(archived);
      if (raw !== undefined) {
        callback(raw);
        count++;
      }
    }
    return count;
  }
}
