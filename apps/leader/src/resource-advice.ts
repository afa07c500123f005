/**
 * What `toil run` adds to an `InsufficientSystemResources` error: whether the job store was kept, and
 * the way on from there. A store is kept only when jobs ran before the too-big job was found; then
 * `--restart` continues it, if an option can make the job fit (the batch system names those in
 * `restartOptions`), or else the workflow has to start over.
 */
import type { InsufficientSystemResources } from "@toil/batch-core";

/** The lines `toil run` prints after the error's own message. */
export function insufficientResourcesAdvice(err: InsufficientSystemResources, storeKept: string | undefined, restart: boolean): string[] {
  if (storeKept === undefined) {
    return restart ? [] : ["Nothing ran and no job store was left behind: fix it and run the same command again."];
  }
  const options = err.restartOptions ?? [];
  if (options.length > 0) {
    return [
      `The job store ${storeKept} was kept. Continue the workflow with \`toil run … --restart\` and a new ` +
        `${options.join(" or ")} (see above); to change the job instead, delete the store (toil clean ${storeKept}) ` +
        "and run again without --restart.",
    ];
  }
  return [
    `The job store ${storeKept} was kept, but no option given with --restart can make this job fit here: change the job ` +
      `(or the batch system, see above), delete the store (toil clean ${storeKept}) and run again without --restart.`,
  ];
}
