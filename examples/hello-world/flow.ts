/**
 * Hello world: one job that logs a line to the leader and returns a greeting.
 *
 *   toil run flow.ts --jobStore ./js -- world
 */
import { Job, type FileStore } from "@toil/job";
import type { WorkflowContext } from "@toil/leader";

export class HelloJob extends Job {
  constructor(readonly who: string) {
    super({ memory: "64Mi", cores: 0.1, disk: "1Mi" });
  }

  run(fileStore: FileStore): string {
    const greeting = `Hello, ${this.who}!`;
    fileStore.logToLeader(greeting);
    return greeting;
  }
}

export default function main({ args }: WorkflowContext): HelloJob {
  return new HelloJob(args[0] ?? "world");
}
