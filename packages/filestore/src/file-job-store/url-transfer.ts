/**
 * Import into and export out of a file job store by URL: `file:` sources and destinations (copies,
 * or links and moves when the workflow allows them) and any scheme registered with
 * `registerUrlAccess` (`http:`/`https:` built in).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Config, FileID } from "@toil/job/core";
import { InvalidImportExportUrlError } from "../errors.js";
import { assertSharedFileName, withSize } from "../ids.js";
import { FILE_MODE, isErrno } from "../internal/fsx.js";
import type { ImportOptions, WriteFileOptions } from "../job-store.js";
import { filePathOf, normalizeUrl, urlAccessFor } from "../url-access.js";
import type { StoreLayout } from "./layout.js";
import type { SharedFiles } from "./shared-files.js";
import { checkSum, forgetSums, recordedSums, recordSum, sumOfFile, verifyAgainst } from "./file-checksums.js";
import { STREAM_CHUNK, copyFileSummed } from "./summed-copy.js";
import { LINK_MARKER, streamToFile, type StoredFiles } from "./stored-files.js";

/** Options of {@link UrlTransfer} that override the workflow config. */
export interface UrlTransferOptions {
  /** Let `file:` imports be symlinks to their source (config `symlinkImports`). */
  symlinkImports?: boolean;
  /** Export by moving the file out and leaving a symlink (config `moveOutputs`). */
  moveExports?: boolean;
}

/** Imports and exports of one store. */
export class UrlTransfer {
  constructor(
    private readonly layout: StoreLayout,
    private readonly files: StoredFiles,
    private readonly shared: SharedFiles,
    private readonly options: UrlTransferOptions,
    private readonly config: () => Config | undefined,
  ) {}

  async importFile(srcUrl: string, options: ImportOptions = {}): Promise<FileID | undefined> {
    const url = normalizeUrl(srcUrl);
    const shared = options.sharedFileName === undefined ? undefined : assertSharedFileName(options.sharedFileName);
    const writeOpts: WriteFileOptions = {
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.cleanup === undefined ? {} : { cleanup: options.cleanup }),
    };
    if (url.protocol === "file:") {
      const src = filePathOf(url);
      let st: fs.Stats;
      try {
        st = fs.statSync(src);
      } catch {
        throw new InvalidImportExportUrlError(srcUrl, `no such file ${src}`);
      }
      if (!st.isFile()) throw new InvalidImportExportUrlError(srcUrl, `${src} is not a regular file`);
      if (shared !== undefined) {
        await this.shared.writeSharedFile(shared, fs.readFileSync(src));
        return undefined;
      }
      const executable = (st.mode & 0o100) !== 0;
      const linkImports = this.options.symlinkImports ?? this.config()?.symlinkImports ?? true;
      if (options.symlink === true && linkImports) {
        const t = this.files.newFileTarget(writeOpts, path.basename(src), executable, true);
        this.files.makeFileDir(t.dir);
        fs.symlinkSync(fs.realpathSync(src), t.file);
        this.files.notePending(t.file);
        return withSize(t.parsed, st.size);
      }
      if (options.hardlink === true) {
        const t = this.files.newFileTarget(writeOpts, path.basename(src), executable);
        this.files.makeFileDir(t.dir);
        try {
          fs.linkSync(fs.realpathSync(src), t.file);
          // The store shares the source's bytes: a later change to them reads as damage.
          recordSum(t.dir, await sumOfFile(t.file));
          this.files.notePending(t.file);
          return withSize(t.parsed, st.size);
        } catch (err) {
          fs.rmSync(t.dir, { recursive: true, force: true });
          if (!isErrno(err, "EXDEV", "EPERM", "EMLINK")) throw err;
        }
      }
      return this.files.writeFile(src, { ...writeOpts, basename: path.basename(src), executable });
    }
    const access = urlAccessFor(url, "import");
    const source = await access.open!(url);
    const basename = decodeURIComponent(path.posix.basename(url.pathname)) || "download";
    let written = 0;
    const counter = new PassThrough();
    counter.on("data", (chunk: Buffer) => (written += chunk.length));
    const write = async (out: Writable) => {
      await pipeline(source.stream, counter, out);
    };
    const check = () => {
      if (source.size !== undefined && written !== source.size) {
        throw new InvalidImportExportUrlError(srcUrl, `transfer incomplete: got ${written} of ${source.size} bytes`);
      }
    };
    if (shared !== undefined) {
      const target = this.layout.sharedPath(shared);
      await streamToFile(target, async (out) => {
        await write(out);
        check();
      }, FILE_MODE);
      return undefined;
    }
    return this.files.writeFileStream(
      async (out) => {
        await write(out);
        check();
      },
      { ...writeOpts, basename, executable: source.executable ?? false },
    );
  }

  async exportFile(fileId: string, dstUrl: string): Promise<void> {
    const url = normalizeUrl(dstUrl);
    const src = this.files.requireReadable(fileId);
    const executable = src.parsed.executable;
    if (url.protocol === "file:") {
      const dst = filePathOf(url);
      await fs.promises.mkdir(path.dirname(dst), { recursive: true });
      const moveExports = this.options.moveExports ?? this.config()?.moveOutputs ?? false;
      const mode = executable ? 0o755 : 0o644;
      if (moveExports && !src.link) {
        // Move the data out and leave a store-made symlink behind, so the id stays readable.
        await verifyAgainst(src.path, src.path, `file ${fileId}`);
        const tmp = `${dst}.toil-export-${process.pid}`;
        try {
          fs.renameSync(src.path, tmp);
        } catch (err) {
          if (!isErrno(err, "EXDEV")) throw err;
          await fs.promises.copyFile(src.path, tmp);
          fs.rmSync(src.path);
        }
        fs.chmodSync(tmp, mode);
        fs.renameSync(tmp, dst);
        fs.writeFileSync(path.join(path.dirname(src.path), LINK_MARKER), "", { mode: FILE_MODE });
        fs.symlinkSync(dst, src.path);
        // The data is the user's now (they may change it): the store no longer checks it.
        forgetSums(path.dirname(src.path));
        return;
      }
      const real = src.link ? fs.realpathSync(src.path) : src.path;
      const tmp = `${dst}.toil-export-${process.pid}`;
      try {
        // The export gets the bytes that were summed on their way through: check that sum.
        const sums = recordedSums(path.dirname(src.path));
        checkSum(sums, await copyFileSummed(real, tmp, mode, "w"), src.path, `file ${fileId}`);
        fs.renameSync(tmp, dst);
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
      }
      return;
    }
    const access = urlAccessFor(url, "export");
    await access.write!(url, this.files.verifying(fs.createReadStream(src.path, { highWaterMark: STREAM_CHUNK }), src.path, `file ${fileId}`), { executable });
  }
}
