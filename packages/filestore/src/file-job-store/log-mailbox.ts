/**
 * The logs/stats mailbox of a format-2 store: a message is an entry of its writer's commit log
 * (durable with the writer's next sync, like the job it reports on). The leader takes each message
 * once and records how far it took each log (a claim entry in its own log), so a restarted leader
 * hands out only what the killed one had not. Messages of folded generations are in
 * `logs/journal-g<n>.jsonl`; those of a format-1 store in its inbox/archive and `journal.jsonl`.
 */
import * as fs from "node:fs";
import { readRecords } from "../internal/append-log.js";
import { isErrno } from "../internal/fsx.js";
import type { MailboxMessage } from "../job-store.js";
import type { JobRecords } from "./job-records.js";
import type { StoreLayout } from "./layout.js";
import type { Mailbox } from "./mailbox.js";

const FOLDED_JOURNAL = /^journal-g(\d+)\.jsonl$/;

/** The mailbox over the commit logs (and, for older messages, the files). */
export class LogMailbox {
  /** Messages of the view's list this instance has handed out (the view is replaced at a new generation). */
  private delivered = 0;
  private deliveredFrom: object | undefined;

  constructor(
    private readonly layout: StoreLayout,
    private readonly records: JobRecords,
    private readonly files: Mailbox,
  ) {}

  async writeLogs(message: string | Uint8Array): Promise<void> {
    const data = typeof message === "string" ? Buffer.from(message, "utf8") : Buffer.from(message);
    await this.records.writeMessage(data);
  }

  async readLogs(callback: (message: Buffer) => void, readAll = false): Promise<number> {
    let count = await this.files.readLogs(callback, readAll);
    const view = this.records.refreshedView();
    if (this.deliveredFrom !== view) {
      this.deliveredFrom = view;
      this.delivered = 0;
    }
    const list = view.collectMessages();
    const takenUpTo = new Map<number, number>();
    for (let i = readAll ? 0 : this.delivered; i < list.length; i++) {
      const m = list[i]!;
      const end = m.offset + m.length;
      // A message not yet handed out here, inside a claim: an earlier leader took it (this
      // instance's own claims only cover what it handed out before).
      if (!readAll && end <= (view.claims.get(view.logName(m.log)) ?? 0)) continue;
      callback(view.readAt(m.log, m.offset, m.length, "a mailbox message").data);
      count++;
      takenUpTo.set(m.log, Math.max(takenUpTo.get(m.log) ?? 0, end));
    }
    this.delivered = list.length;
    for (const [log, upTo] of takenUpTo) {
      const name = view.logName(log);
      if (upTo > (view.claims.get(name) ?? 0)) await this.records.claimMessages(name, upTo);
    }
    return count;
  }

  async peekLogs(callback: (message: MailboxMessage) => void): Promise<number> {
    const all: MailboxMessage[] = [];
    await this.files.peekLogs((m) => all.push(m));
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.layout.p("logs"));
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
    const view = this.records.refreshedView();
    // A folded generation's journal counts once its fold is marked (until then its logs are read).
    const journals = names
      .map((n) => [n, FOLDED_JOURNAL.exec(n)] as const)
      .filter((x): x is readonly [string, RegExpExecArray] => x[1] !== null && Number(x[1][1]) <= view.foldedGeneration)
      .sort((a, b) => Number(a[1][1]) - Number(b[1][1]));
    for (const [n] of journals) {
      for (const r of readRecords<{ t: number; m?: string; b?: string }>(this.layout.p("logs", n)) ?? []) {
        if (typeof r?.t !== "number") continue;
        const data = typeof r.m === "string" ? Buffer.from(r.m, "utf8") : typeof r.b === "string" ? Buffer.from(r.b, "base64") : undefined;
        if (data !== undefined) all.push({ data, writtenAt: r.t });
      }
    }
    for (const m of view.collectMessages()) {
      const entry = view.readAt(m.log, m.offset, m.length, "a mailbox message");
      all.push({ data: entry.data, writtenAt: Number(entry.aux.toString("latin1")) || 0 });
    }
    // Write order across writers: by time (a stable sort keeps each writer's own order).
    all.sort((a, b) => a.writtenAt - b.writtenAt);
    for (const m of all) callback(m);
    return all.length;
  }
}
