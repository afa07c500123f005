/**
 * What the single-machine batch system hands out to running jobs: job slots, cores (in tenths),
 * memory, disk and accelerators. A job takes everything it needs at once, or nothing.
 */
import { ResourcePool, ResourceSet } from "@toil/batch-core";
import type { LocalJob } from "./local-job.js";

/** The resources of one machine, and which of them a job holds. */
export class JobResources {
  private readonly slots: ResourcePool;
  private readonly coreTenths: ResourcePool;
  private readonly memoryPool: ResourcePool;
  private readonly diskPool: ResourcePool;
  private readonly gpuSet: ResourceSet;

  constructor(maxJobs: number, maxCores: number, maxMemory: number, maxDisk: number, acceleratorIndices: readonly number[]) {
    this.slots = new ResourcePool(maxJobs, "job slots");
    this.coreTenths = new ResourcePool(Math.max(1, Math.floor(maxCores * 10 + 1e-9)), "cores");
    this.memoryPool = new ResourcePool(Math.floor(maxMemory), "memory");
    this.diskPool = new ResourcePool(Math.floor(maxDisk), "disk");
    this.gpuSet = new ResourceSet(acceleratorIndices, "accelerators");
  }

  /** Tenths of a core the machine has for jobs. */
  get coreTenthsTotal(): number {
    return this.coreTenths.initialValue;
  }

  /** Take everything the job needs, or nothing; returns the name of the missing resource. */
  acquire(job: LocalJob): string | null {
    if (!this.slots.acquireNow(1)) return "job slots";
    if (!this.coreTenths.acquireNow(job.tenths)) {
      this.slots.release(1);
      return "cores";
    }
    if (!this.memoryPool.acquireNow(job.memory)) {
      this.coreTenths.release(job.tenths);
      this.slots.release(1);
      return "memory";
    }
    if (!this.diskPool.acquireNow(job.disk)) {
      this.memoryPool.release(job.memory);
      this.coreTenths.release(job.tenths);
      this.slots.release(1);
      return "disk";
    }
    if (job.gpuCount > 0) {
      const gpus = this.gpuSet.acquireAnyNow(job.gpuCount);
      if (!gpus) {
        this.diskPool.release(job.disk);
        this.memoryPool.release(job.memory);
        this.coreTenths.release(job.tenths);
        this.slots.release(1);
        return "accelerators";
      }
      job.gpus = gpus;
    }
    return null;
  }

  /** Give back what the job holds. */
  release(job: LocalJob): void {
    this.slots.release(1);
    this.coreTenths.release(job.tenths);
    this.memoryPool.release(job.memory);
    this.diskPool.release(job.disk);
    if (job.gpus) this.gpuSet.release(job.gpus);
    job.gpus = null;
  }
}
