/**
 * @toil/bus: the typed message bus of toil-ts.
 *
 * Components publish job lifecycle events (issued, updated, completed, failed, ...) from any
 * thread; the leader's thread receives them in batches when it calls `check()`. A bus can copy
 * every message to a JSON-lines log that `toil status` replays.
 *
 * @example
 * ```ts
 * import { MessageBus, jobIssued, replayMessageBus } from "@toil/bus";
 *
 * using bus = new MessageBus();
 * using log = bus.connectOutputFile("/tmp/wf/bus.jsonl");
 * using inbox = bus.connect(["JobIssued"]);
 * bus.publish(jobIssued({ jobId: "j1", jobName: "align", batchId: 7 }));
 * inbox.count("JobIssued"); // 1 (reading the inbox runs bus.check())
 * ```
 *
 * @packageDocumentation
 *
 * @module @toil/bus
 */
export {
  BUS_MESSAGE_TYPES,
  isBusMessageType,
  jobIssued,
  jobUpdated,
  jobCompleted,
  jobFailed,
  jobMissing,
  jobAnnotation,
  externalBatchId,
  queueSize,
  clusterSize,
  clusterDesiredSize,
} from "./messages.js";
export type {
  BusMessage,
  BusMessageBase,
  BusMessageType,
  MessageOfType,
  JobScoped,
  JobIssuedMessage,
  JobUpdatedMessage,
  JobCompletedMessage,
  JobFailedMessage,
  JobMissingMessage,
  JobAnnotationMessage,
  ExternalBatchIdMessage,
  QueueSizeMessage,
  ClusterSizeMessage,
  ClusterDesiredSizeMessage,
} from "./messages.js";
export { MessageBus, MessageOutbox, ThreadOutbox, MessageInbox } from "./bus.js";
export type { MessagePublisher, MessageHandler, BusSubscription, MessageBusStats } from "./bus.js";
export { BUS_LOG_FORMAT_VERSION, BUS_LOG_FORMAT_NAME, BusLogWriter, BusLogReader, readBusLog } from "./log.js";
export type { BusLogHeader, BusLogSource, BusLogWriterOptions, BusLogReadOptions, BusLogStats } from "./log.js";
export { JobStatusTracker, replayMessageBus, isRunning, RUNNING_EXIT_CODE } from "./status.js";
export type { JobStatus } from "./status.js";
export {
  ToilError,
  type ToilErrorOptions,
  isToilError,
  BusError,
  BusUsageError,
  BusHandlerError,
  BusLogFormatError,
  BusLogParseError,
  BusLogNotFoundError,
  UnknownBusMessageTypeError,
} from "./errors.js";
