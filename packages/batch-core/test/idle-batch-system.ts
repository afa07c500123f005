import { BatchSystemSupport, type UpdatedBatchJobInfo } from "../src/index.js";

/** A batch system that accepts every job and never runs one: for tests of the shared support code. */
export class IdleBatchSystem extends BatchSystemSupport {
  async issueBatchJob(): Promise<number> {
    return 1;
  }
  async killBatchJobs(): Promise<void> {}
  async getIssuedBatchJobIds(): Promise<number[]> {
    return [];
  }
  async getRunningBatchJobIds(): Promise<Map<number, number>> {
    return new Map();
  }
  async getUpdatedBatchJob(): Promise<UpdatedBatchJobInfo | null> {
    return null;
  }
  async shutdown(): Promise<void> {}
}
