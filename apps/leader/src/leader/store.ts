import type { JobDescription } from "@toil/job";

/** A message a worker left for the leader (a `logToLeader` line, or a job's log text). */
export interface WorkerMessage {
  /** Id of the job that sent it, when known. */
  jobId?: string;
  /** Name of the job that sent it, when known. */
  jobName?: string;
  /** Log level. */
  level: "debug" | "info" | "warning" | "error" | "critical";
  /** The message. */
  text: string;
  /** Set for the full log of a successful job (sent with --writeLogsFromAllJobs or at debug level). */
  jobLog?: {
    /** Names of the jobs the log covers (a chain of jobs shares one log). */
    jobNames: string[];
  };
}

/**
 * What the leader needs from the job store. Declared here (the user of the interface) so the loop
 * can be read on its own; the `Toil` class adapts the real job store to it.
 */
export interface LeaderStore {
  /** The job store's locator. */
  readonly locator: string;
  /** Whether the job is stored. */
  jobExists(id: string): Promise<boolean>;
  /** Reads a job's description. */
  loadJob(id: string): Promise<JobDescription>;
  /** Writes a job's description. */
  updateJob(desc: JobDescription): Promise<void>;
  /** Deletes a job. */
  deleteJob(id: string): Promise<void>;
  /** Whether the file is stored. */
  fileExists(fileId: string): Promise<boolean>;
  /** A new empty job-store file tied to a job (service flags). */
  createEmptyFile(jobId: string, hints: string[]): Promise<string>;
  /** Deletes a file (idempotent). */
  deleteFile(fileId: string): Promise<void>;
  /** Text of a job-store file (a failed job's log), or undefined if missing. */
  readFileText(fileId: string): Promise<string | undefined>;
  /** Deliver unread worker messages (logToLeader lines) and return how many. */
  readMessages(handler: (message: WorkerMessage) => void): Promise<number>;
  /** Whether `toil kill` asked the workflow to stop. */
  readKillFlag(): Promise<boolean>;
  /**
   * Make a job's newest stored state durable, whoever wrote it (a worker killed after it appended
   * its commit but before its sync). Called before the leader trusts a commit the worker did not report.
   */
  syncCommitOf?(id: string): Promise<void>;
}
