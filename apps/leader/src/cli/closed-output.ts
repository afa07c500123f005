/**
 * A closed stdout or stderr never stops a workflow. `toil run … 2>&1 | head -2` closes the pipe
 * after two lines; Node then reports EPIPE as an `error` event on the stream, which with no
 * listener ends the process (exit 1) in the middle of the run and leaves the store stopped. Here
 * the first error on either stream turns its later writes into no-ops: the run goes on, and its
 * whole log is still in the log file (`--logFile`, by default `<job store>.log`).
 */
export function keepRunningWhenOutputCloses(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    let closed = false;
    stream.on("error", () => {
      if (closed) return;
      closed = true;
      stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      }) as NodeJS.WriteStream["write"];
    });
  }
}
