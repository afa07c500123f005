import type { JobDescription } from "@toil/job";

/** A message a worker left for the leader (a `logToLeader` line, or a job's log text). */
export interface WorkerMessage {
  jobId?: string;
  jobName?: string;
  level: "debug" | "info" | "warning" | "error" | "critical";
  text: string;
  /** Set for the full log of a successful job (sent with --writeLogsFromAllJobs or at debug level). */
  jobLog?: { jobNames: string[] };
}

/**
 * What the leader needs from the job store. Declared here (the user of the interface) so the loop
 * can be read on its own; the `Toil` class adapts the real job store to it.
 */
export interface LeaderStore {
  readonly locator: string;
  jobExists(id: string): Promise<boolean>;
  loadJob(id: string): Promise<JobDescription>;
  updateJob(desc: JobDescription): Promise<void>;
  deleteJob(id: string): Promise<void>;
  fileExists(fileId: string): Promise<boolean>;
  /** A new empty job-store file tied to a job (service flags). */
  createEmptyFile(jobId: string, hints: string[]): Promise<string>;
  deleteFile(fileId: string): Promise<void>;
  /** Text of a job-store file (a failed job's log), or undefined if missing. */
  readFileText(fileId: string): Promise<string | undefined>;
  /** Deliver unread worker messages (logToLeader lines) and return how many. */
  readMessages(handler: (message: WorkerMessage) => void): Promise<number>;
  /** Whether `toil kill` asked the workflow to stop. */
  readKillFlag(): Promise<boolean>;
}
