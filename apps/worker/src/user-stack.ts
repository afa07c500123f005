/**
 * Stack traces as users should see them: the frames of their own code, without the engine's
 * (toil-ts's packages or the standalone bundle) and without the runtime frames below their last
 * frame (the worker loop, the warm host, timers). Tools that report bugs in toil-ts itself keep the
 * full stack (`--logDebug`, `--logLevel debug`).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const engineRoots = new Set<string>();

/**
 * Treat the package (or bundle) of the module at `moduleUrl` as the engine's: its `dist/`, `src/`
 * and `runtime/` directories, or, for a bundle (a directory not named dist or src), that directory.
 */
export function registerEngineModule(moduleUrl: string): void {
  let file: string;
  try {
    file = moduleUrl.startsWith("file:") ? fileURLToPath(moduleUrl) : moduleUrl;
  } catch {
    return;
  }
  if (!path.isAbsolute(file)) return;
  const dir = path.dirname(file);
  const base = path.basename(dir);
  if (base === "dist" || base === "src") {
    const pkg = path.dirname(dir);
    for (const sub of ["dist", "src", "runtime"]) engineRoots.add(path.join(pkg, sub) + path.sep);
  } else {
    engineRoots.add(dir + path.sep);
  }
}

/** Register the engine packages `specifiers` as seen from the module at `fromUrl` (those that resolve). */
export function registerEnginePackages(fromUrl: string, specifiers: readonly string[]): void {
  registerEngineModule(fromUrl);
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  for (const s of specifiers) {
    try {
      if (resolve) registerEngineModule(resolve(s));
    } catch {
      // not installed here: its frames cannot appear either
    }
  }
}

registerEnginePackages(import.meta.url, ["@toil/job", "@toil/filestore"]);

type FrameKind = "user" | "engine" | "dependency" | "runtime";

/** Where a V8 stack frame line (`    at fn (file:line:col)`) points, or undefined. */
function frameLocation(line: string): string | undefined {
  const body = line.trim().replace(/^at\s+/, "").replace(/^async\s+/, "");
  const inParens = body.endsWith(")") ? body.slice(body.lastIndexOf("(") + 1, -1) : body;
  const m = /^(.*?):\d+:\d+$/.exec(inParens);
  return m ? m[1] : undefined;
}

function frameKind(line: string): FrameKind {
  const loc = frameLocation(line);
  if (loc === undefined || loc.startsWith("node:") || loc === "native" || loc.startsWith("<")) return "runtime";
  let file = loc;
  if (file.startsWith("file:")) {
    try {
      file = fileURLToPath(file.split("?")[0]!);
    } catch {
      return "runtime";
    }
  }
  file = file.split("?")[0]!;
  for (const root of engineRoots) if (file.startsWith(root)) return "engine";
  if (file.includes(`${path.sep}node_modules${path.sep}`)) return "dependency";
  return path.isAbsolute(file) ? "user" : "runtime";
}

const FRAME = /^\s+at\s/;

/**
 * The stack of `err` as its user should see it: its message, then the frames down to the last frame
 * of user code, without the engine's frames. A stack without any user frame (an error of the engine
 * itself) is returned whole; a value that is not an Error is printed as text.
 */
export function userStack(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const stack = err.stack;
  if (!stack) return `${err.name}: ${err.message}`;
  const lines = stack.split("\n");
  const first = lines.findIndex((l) => FRAME.test(l));
  if (first < 0) return stack;
  const header = lines.slice(0, first);
  const frames = lines.slice(first).filter((l) => FRAME.test(l));
  const kinds = frames.map(frameKind);
  const lastUser = kinds.lastIndexOf("user");
  if (lastUser < 0) return stack;
  const kept = frames.filter((_, i) => i <= lastUser && kinds[i] !== "engine");
  return [...header, ...kept].join("\n");
}
