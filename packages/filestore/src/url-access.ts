/**
 * Import/export by URL: an open registry of URL schemes (Toil's url_access plugins). Built in:
 * `file:` (import and export; plain paths mean file:) and `http:`/`https:` (import only: streamed,
 * redirects followed, size checked). Another package adds a scheme with {@link registerUrlAccess}.
 */
import * as fs from "node:fs";
import type * as Http from "node:http";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL, fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { InvalidImportExportUrlError } from "./errors.js";

/** What opening a URL for import yields. */
export interface UrlSource {
  /** The content. */
  stream: Readable;
  /** Expected size in bytes when the source says (checked after the transfer). */
  size?: number;
  /** Whether the source is executable (local files), when known. */
  executable?: boolean;
}

/** One URL-scheme handler. */
export interface UrlAccess {
  /** Lower-case schemes without the colon, e.g. `["http", "https"]`. */
  readonly schemes: readonly string[];
  /** Open for reading (import). Omit for export-only schemes. */
  open?(url: URL): Promise<UrlSource>;
  /** Write `source` to the URL (export). Omit for import-only schemes. */
  write?(url: URL, source: Readable, options: { executable: boolean }): Promise<void>;
}

const registry = new Map<string, UrlAccess>();

/** Register a scheme handler; returns a function that unregisters it. */
export function registerUrlAccess(access: UrlAccess): () => void {
  for (const s of access.schemes) registry.set(s.toLowerCase(), access);
  return () => {
    for (const s of access.schemes) if (registry.get(s.toLowerCase()) === access) registry.delete(s.toLowerCase());
  };
}

/** URL schemes with a registered handler, sorted. */
export function knownUrlSchemes(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Parse an import/export location. A string without a scheme (or a one-letter one, or starting with
 * `/` or `.`) is a local path, made absolute against the current directory.
 */
export function normalizeUrl(text: string): URL {
  if (typeof text !== "string" || text === "") throw new InvalidImportExportUrlError(String(text), "empty location");
  if (text.includes("\0")) throw new InvalidImportExportUrlError(text, "contains a NUL byte");
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (!m || text.startsWith("/") || text.startsWith(".") || m[1]!.length === 1) {
    return pathToFileURL(path.resolve(text));
  }
  try {
    return new URL(text);
  } catch (err) {
    throw new InvalidImportExportUrlError(text, `not a valid URL (${(err as Error).message})`);
  }
}

export function urlAccessFor(url: URL, purpose: "import" | "export"): UrlAccess {
  const scheme = url.protocol.replace(/:$/, "").toLowerCase();
  const access = registry.get(scheme);
  const ok = access && (purpose === "import" ? access.open : access.write);
  if (!access || !ok) {
    const usable = [...registry.entries()]
      .filter(([, a]) => (purpose === "import" ? a.open : a.write))
      .map(([s]) => `${s}:`);
    throw new InvalidImportExportUrlError(
      url.href,
      `no handler can ${purpose} '${scheme}:' URLs (schemes that can: ${usable.sort().join(", ")})`,
    );
  }
  return access;
}

/** Local path of a file: URL. */
export function filePathOf(url: URL): string {
  if (url.protocol !== "file:") throw new InvalidImportExportUrlError(url.href, "not a file: URL");
  if (url.host !== "" && url.host !== "localhost") {
    throw new InvalidImportExportUrlError(url.href, `file: URLs must be local (host '${url.host}')`);
  }
  return fileURLToPath(url);
}

const fileAccess: UrlAccess = {
  schemes: ["file"],
  async open(url) {
    const p = filePathOf(url);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch {
      throw new InvalidImportExportUrlError(url.href, `no such file ${p}`);
    }
    if (!st.isFile()) throw new InvalidImportExportUrlError(url.href, `${p} is not a regular file`);
    return { stream: fs.createReadStream(p), size: st.size, executable: (st.mode & 0o100) !== 0 };
  },
  async write(url, source, { executable }) {
    const p = filePathOf(url);
    await fs.promises.mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.toil-export-${process.pid}`;
    try {
      await pipeline(source, fs.createWriteStream(tmp, { mode: executable ? 0o755 : 0o644 }));
      await fs.promises.chmod(tmp, executable ? 0o755 : 0o644);
      await fs.promises.rename(tmp, p);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
  },
};

const MAX_REDIRECTS = 10;

function httpGet(url: URL, redirects: number, original: string): Promise<UrlSource> {
  return new Promise((resolve, reject) => {
    // Loaded here, not at import: most processes (every worker) never fetch a URL, and node:https
    // costs a few milliseconds of start-up.
    const client = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http") as typeof Http;
    const get = client.get;
    const req = get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new InvalidImportExportUrlError(original, `more than ${MAX_REDIRECTS} redirects`));
          return;
        }
        const next = new URL(res.headers.location, url);
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          reject(new InvalidImportExportUrlError(original, `redirected to unsupported ${next.protocol} URL`));
          return;
        }
        httpGet(next, redirects + 1, original).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new InvalidImportExportUrlError(original, `the server answered HTTP ${status}${status === 404 ? " (not found)" : ""}`));
        return;
      }
      const len = res.headers["content-length"];
      const size = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
      resolve(size === undefined ? { stream: res } : { stream: res, size });
    });
    req.on("error", (err) => reject(new InvalidImportExportUrlError(original, `request failed: ${err.message}`)));
  });
}

const httpAccess: UrlAccess = {
  schemes: ["http", "https"],
  open(url) {
    return httpGet(url, 0, url.href);
  },
};

registerUrlAccess(fileAccess);
registerUrlAccess(httpAccess);
