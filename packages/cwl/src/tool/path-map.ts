/**
 * Host paths and the paths a tool sees. On the host they are the same; in a container the output,
 * temporary and staging directories are mounted elsewhere, so every `path` the tool (and its
 * expressions) sees is rewritten, and paths it names are mapped back to find the host file.
 */
import path from "node:path";

/** Maps host directories to the paths a tool sees them at, and back. */
export class PathMapper {
  /** Pairs of (host directory, runtime directory), longest host path first. */
  private readonly pairs: readonly (readonly [string, string])[];

  constructor(pairs: readonly (readonly [string, string])[] = []) {
    this.pairs = [...pairs].sort((a, b) => b[0].length - a[0].length);
  }

  /** Whether host and runtime paths are the same (no container). */
  get identity(): boolean {
    return this.pairs.length === 0;
  }

  private static swap(p: string, from: string, to: string): string | undefined {
    if (p === from) return to;
    if (p.startsWith(from.endsWith(path.sep) ? from : `${from}${path.sep}`)) return path.join(to, p.slice(from.length));
    return undefined;
  }

  /** The path the tool sees for a host path (unchanged when outside every mapped directory). */
  toRuntime(hostPath: string): string {
    for (const [host, runtime] of this.pairs) {
      const m = PathMapper.swap(hostPath, host, runtime);
      if (m !== undefined) return m;
    }
    return hostPath;
  }

  /** The host path of a path the tool sees (unchanged when outside every mapped directory). */
  toHost(runtimePath: string): string {
    for (const [host, runtime] of [...this.pairs].sort((a, b) => b[1].length - a[1].length)) {
      const m = PathMapper.swap(runtimePath, runtime, host);
      if (m !== undefined) return m;
    }
    return runtimePath;
  }

  /** A copy of `value` with the `path` and `dirname` of every File and Directory mapped by `map`. */
  mapValue<T>(value: T, direction: "toRuntime" | "toHost"): T {
    if (this.identity) return value;
    const map = (p: string): string => (direction === "toRuntime" ? this.toRuntime(p) : this.toHost(p));
    const walk = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(walk);
      if (v === null || typeof v !== "object") return v;
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) out[k] = walk(x);
      if (o.class === "File" || o.class === "Directory") {
        if (typeof o.path === "string") out.path = map(o.path);
        if (typeof o.dirname === "string") out.dirname = map(o.dirname);
      }
      return out;
    };
    return walk(value) as T;
  }
}
