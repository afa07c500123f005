/**
 * One service and one job that uses it: `toil run services.ts --jobStore DIR -- TIMES_DIR`. The job
 * writes the moment it ends to TIMES_DIR/client-end, and the service the moment its stop() is
 * called to TIMES_DIR/service-stop (ms since the epoch): the bench reports the time in between,
 * what a service costs after its last user is done.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Job, Service, type JobFunctionWrappingJob } from "@toil/job";

export class IdleService extends Service<string> {
  constructor(readonly timesDir: string) {
    super({ memory: "64Mi", cores: 0.1, disk: "1Mi" });
  }
  start(): string {
    return "up";
  }
  stop(): void {
    writeFileSync(join(this.timesDir, "service-stop"), String(Date.now()));
  }
}

export function useService(timesDir: string, value: string): void {
  if (value !== "up") throw new Error(`the service's start value is ${JSON.stringify(value)}, not "up"`);
  writeFileSync(join(timesDir, "client-end"), String(Date.now()));
}

export function withService(job: JobFunctionWrappingJob, timesDir: string): void {
  const value = job.addService(new IdleService(timesDir));
  job.addChildFn(useService, timesDir, value);
}

export default function main({ args }: { args: string[] }): Job {
  const [timesDir] = args;
  if (timesDir === undefined) throw new Error("usage: toil run services.ts --jobStore DIR -- TIMES_DIR");
  return Job.wrapJobFn(withService, timesDir);
}
