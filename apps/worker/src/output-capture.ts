/**
 * Capture this process's stdout/stderr writes while a job runs, in memory (only the last
 * `maxBytes` are kept); the text becomes a file only when it is needed (a failure, --writeLogs).
 */
export class OutputCapture {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly restore: Array<() => void> = [];
  constructor(
    private readonly maxBytes: number,
    enabled: boolean,
    passThrough: boolean,
  ) {
    if (!enabled) return;
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      const self = this;
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
        self.append(typeof chunk === "string" ? Buffer.from(chunk, (typeof encoding === "string" ? encoding : "utf8") as BufferEncoding) : Buffer.from(chunk as Uint8Array));
        if (passThrough) return original.call(this, chunk as string, encoding as BufferEncoding, cb as () => void);
        const done = typeof encoding === "function" ? encoding : cb;
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      } as typeof stream.write;
      this.restore.push(() => {
        stream.write = original;
      });
    }
  }
  private append(buf: Buffer): void {
    this.chunks.push(buf);
    this.size += buf.length;
    if (this.maxBytes >= 0 && this.size > 2 * this.maxBytes + 65536) {
      const all = Buffer.concat(this.chunks);
      const kept = all.subarray(all.length - this.maxBytes);
      this.chunks = [kept];
      this.size = kept.length;
    }
  }
  line(text: string): void {
    this.append(Buffer.from(`${new Date().toISOString()} ${text}\n`));
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    if (this.maxBytes >= 0) return all.subarray(Math.max(0, all.length - this.maxBytes)).toString("utf8");
    return all.subarray(0, -this.maxBytes).toString("utf8");
  }
  close(): void {
    for (const r of this.restore.reverse()) r();
    this.restore.length = 0;
  }
}
