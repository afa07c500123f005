/**
 * A closed stdout or stderr never stops a workflow. `toil run … 2>&1 | head -2` closes the pipe
 * after two lines; Node then reports EPIPE as an `error` event on the stream, which with no
 * listener ends the process (exit 1) in the middle of the run and leaves the store stopped. Here
 * the first error on either stream turns its later writes into no-ops: the run goes on, and its
 * whole log is still in the log file (`--logFile`, by default `<job store>.log`).
 */

/** Turn `stream`'s writes into no-ops after its first error. */
function keepWritingAfterError(stream: NodeJS.WriteStream): void {
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

/**
 * Guard the process's stdout and stderr. Each is guarded when it is first used: Node creates a
 * stream on first access (a pipe's loads the net module), and `toil --help` never writes to stderr.
 */
export function keepRunningWhenOutputCloses(): void {
  for (const name of ["stdout", "stderr"] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name);
    const get = descriptor?.get;
    if (!descriptor?.configurable || get === undefined) {
      keepWritingAfterError(process[name]);
      continue;
    }
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      ...descriptor,
      get(): NodeJS.WriteStream {
        if (stream === undefined) {
          stream = get.call(process) as NodeJS.WriteStream;
          keepWritingAfterError(stream);
        }
        return stream;
      },
    });
  }
}
