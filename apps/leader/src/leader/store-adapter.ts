import { FileJobStore, type JobStore } from "@toil/filestore";
import type { JobDescription } from "@toil/job";
import type { LeaderStore, WorkerMessage } from "./store.js";

const LEVELS = new Set(["debug", "info", "warning", "error", "critical"]);

/** Parse one mailbox message a worker wrote (its stats/log JSON) into log lines for the leader. */
function workerMessagesOf(raw: Buffer): WorkerMessage[] {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString("utf8"));
  } catch {
    return [];
  }
  if (!doc || typeof doc !== "object") return [];
  const d = doc as { logsToLeader?: unknown; jobId?: unknown; jobName?: unknown; workerLog?: unknown };
  const out: WorkerMessage[] = [];
  const wl = d.workerLog as { jobNames?: unknown; text?: unknown } | undefined;
  if (wl && typeof wl.text === "string") {
    const names = Array.isArray(wl.jobNames) ? wl.jobNames.filter((n): n is string => typeof n === "string") : [];
    out.push({
      level: "debug",
      text: wl.text,
      jobLog: { jobNames: names.length > 0 ? names : [String(d.jobName ?? "job")] },
      ...(typeof d.jobId === "string" ? { jobId: d.jobId } : {}),
    });
  }
  if (!Array.isArray(d.logsToLeader)) return out;
  for (const entry of d.logsToLeader) {
    if (!entry || typeof entry !== "object") continue;
    const e = entry as { text?: unknown; level?: unknown; jobId?: unknown; jobName?: unknown };
    if (typeof e.text !== "string") continue;
    out.push({
      text: e.text,
      level: (typeof e.level === "string" && LEVELS.has(e.level) ? e.level : "info") as WorkerMessage["level"],
      ...(typeof (e.jobId ?? d.jobId) === "string" ? { jobId: (e.jobId ?? d.jobId) as string } : {}),
      ...(typeof (e.jobName ?? d.jobName) === "string" ? { jobName: (e.jobName ?? d.jobName) as string } : {}),
    });
  }
  return out;
}

/** The leader's view of a real job store. */
export function leaderStoreOf(store: JobStore): LeaderStore {
  return {
    locator: store.locator,
    jobExists: (id) => store.jobExists(id),
    loadJob: (id) => store.loadJob(id),
    updateJob: (desc: JobDescription) => store.updateJob(desc),
    deleteJob: (id) => store.deleteJob(id),
    fileExists: (id) => store.fileExists(id),
    createEmptyFile: (jobId, hints) => store.getEmptyFileStoreId({ jobId, cleanup: true, hints }),
    deleteFile: (id) => store.deleteFile(id),
    async readFileText(id) {
      if (!(await store.fileExists(id))) return undefined;
      const stream = await store.readFileStream(id);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      return Buffer.concat(chunks).toString("utf8");
    },
    readMessages: (handler) =>
      store.readLogs((raw) => {
        for (const m of workerMessagesOf(raw)) handler(m);
      }),
    readKillFlag: () => store.readKillFlag(),
    ...(store instanceof FileJobStore ? { syncCommitOf: (id: string) => store.syncCommitOf(id) } : {}),
  };
}
