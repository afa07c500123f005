/**
 * The job-store conformance suites about files: shared and job files, streams, deletion, and import
 * and export (file and http URLs). Registered by `describeJobStoreConformance`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config, JobDescription } from "@toil/job";
import { InvalidIdError, InvalidImportExportUrlError, NoSuchFileError } from "../errors.js";
import type { JobStore } from "../job-store.js";
import { makeTempDir, md5 } from "./samples.js";

/** What every suite of the kit gets from the conformance run that registers it. */
export interface ConformanceContext {
  /** A new initialized store and a second instance resumed on the same location. */
  pair(configOverrides?: Record<string, unknown>): Promise<{ a: JobStore; b: JobStore; config: Config; loc: string }>;
  /** `job` (default: a sample job) given an id and created in `store`. */
  created(store: JobStore, job?: JobDescription): Promise<JobDescription>;
}

/** Registers the "files" suite: shared and job files, streams, sizes, deletion. */
export function describeFileSuite({ pair, created }: ConformanceContext): void {
  describe("files", () => {
    it("(61) shared files: write on one instance, read on both, text, public URL, missing", async () => {
      const { a, b } = await pair();
      await a.writeSharedFile("foo", "bar");
      expect((await a.readSharedFile("foo")).toString()).toBe("bar");
      expect(await text(await b.readSharedFileStream("foo"))).toBe("bar");
      await b.writeSharedFileStream("text.txt", (s) => void s.write("héllo", "utf8"));
      expect((await a.readSharedFile("text.txt")).toString("utf8")).toBe("héllo");
      expect(await a.getSharedPublicUrl("foo")).toMatch(/^[a-z]+:/);
      await expect(a.readSharedFileStream("nope")).rejects.toBeInstanceOf(NoSuchFileError);
      expect(await a.sharedFileExists("nope")).toBe(false);
    });

    it("(62) text streams across instances; a failing updateFileStream keeps the old content", async () => {
      const { a, b } = await pair();
      const id = await a.writeFileStream((s) => void s.write("foo", "utf8"));
      expect(await text(await b.readFileStream(id))).toBe("foo");
      await expect(
        b.updateFileStream(id, (s) => {
          s.write("bar");
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await text(await a.readFileStream(id))).toBe("foo");
      await b.updateFileStream(id, (s) => void s.write("baz"));
      expect(await text(await a.readFileStream(id))).toBe("baz");
    });

    it("(63) per-job files on two instances: every way in and out, then delete", async () => {
      const { a, b } = await pair();
      const job = await created(a);
      const dir = makeTempDir();
      try {
        const empty = await a.getEmptyFileStoreId({ jobId: job.id, cleanup: true });
        expect(await b.fileExists(empty)).toBe(true);
        await b.updateFileStream(empty, (s) => void s.write("one"));
        expect(await text(await a.readFileStream(empty))).toBe("one");
        const local = path.join(dir, "out.txt");
        await a.readFile(empty, local);
        expect(fs.readFileSync(local, "utf8")).toBe("one");
        fs.writeFileSync(local, "two");
        const second = await b.writeFile(local, { jobId: job.id, cleanup: true });
        expect(await text(await a.readFileStream(second))).toBe("two");
        fs.writeFileSync(local, "three");
        await a.updateFile(second, local);
        expect(await text(await b.readFileStream(second))).toBe("three");
        const third = await a.writeFileStream((s) => void s.write("four"), { jobId: job.id, cleanup: true });
        expect(await b.getFileSize(third)).toBe(4);
        await b.deleteFile(third);
        await b.deleteFile(third);
        expect(await a.fileExists(third)).toBe(false);
        expect(await a.getFileSize(third)).toBe(0);
        await expect(a.readFile(third, path.join(dir, "x"))).rejects.toBeInstanceOf(NoSuchFileError);
        await expect(a.readFileStream(third)).rejects.toBeInstanceOf(NoSuchFileError);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("(69) files tied to a job vanish with it; other files stay", async () => {
      const { a, b } = await pair();
      for (const n of [1, 9, 10, 11, 20]) {
        const job = await created(a);
        const ids = [];
        for (let i = 0; i < n; i++) ids.push(await a.writeFileStream((s) => void s.write(`f${i}`), { jobId: job.id, cleanup: true }));
        const kept = await a.writeFileStream((s) => void s.write("kept"), { jobId: job.id });
        for (const id of ids) expect(await b.fileExists(id)).toBe(true);
        await b.deleteJob(job.id);
        for (const id of ids) expect(await a.fileExists(id)).toBe(false);
        expect(await a.fileExists(kept)).toBe(true);
      }
    });

    it("(70) zero-length files, a 50 MB file, a partial stream read, the empty file id", async () => {
      const { a } = await pair();
      const dir = makeTempDir();
      try {
        fs.writeFileSync(path.join(dir, "z"), "");
        const zero = await a.writeFile(path.join(dir, "z"));
        const devNull = await a.writeFileStream(async (s) => {
          for await (const c of fs.createReadStream("/dev/null")) s.write(c);
        });
        expect(await a.getFileSize(devNull)).toBe(0);
        expect(await a.getFileSize(zero)).toBe(0);
        const emptyStream = await a.writeFileStream(() => {});
        expect(await text(await a.readFileStream(emptyStream))).toBe("");
        const big = randomBytes(50 * 1024 * 1024);
        fs.writeFileSync(path.join(dir, "big"), big);
        const bigId = await a.writeFile(path.join(dir, "big"));
        await a.readFile(bigId, path.join(dir, "big.out"));
        expect(md5(fs.readFileSync(path.join(dir, "big.out")))).toBe(md5(big));
        const mid = await a.writeFileStream((s) => void s.write(randomBytes(300_000)));
        const stream = await a.readFileStream(mid);
        await new Promise<void>((resolve) => {
          stream.once("readable", () => {
            expect(stream.read(1)).toHaveLength(1);
            stream.destroy();
            resolve();
          });
        });
        const empty = await a.getEmptyFileStoreId();
        await a.readFile(empty, path.join(dir, "empty.out"));
        expect(fs.statSync(path.join(dir, "empty.out")).size).toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("(51) hints and the basename show in the file id; the id carries size and executable bit", async () => {
      const { a } = await pair();
      const dir = makeTempDir();
      try {
        const p = path.join(dir, "my tool.sh");
        fs.writeFileSync(p, "#!/bin/sh\necho hi\n", { mode: 0o755 });
        const id = await a.writeFile(p, { hints: ["Hint", "OtherHint"] });
        expect(id).toContain("Hint");
        expect(id).toContain("OtherHint");
        expect(id.endsWith("my_tool.sh")).toBe(true);
        expect(id.startsWith("18:x:")).toBe(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("crafted file ids, shared names and job ids never reach outside the store", async () => {
      const { a } = await pair();
      const bad = [
        "../../etc/passwd",
        "/etc/passwd",
        "5:-:f/../../etc/passwd",
        "5:-:f/aaaaaaaaaaaaaaaa/../passwd",
        "5:-:f/aaaaaaaaaaaaaaaa/pass\0wd",
        "5:-:j/../x/aaaaaaaaaaaaaaaa/f",
        "5:-:f/aaaaaaaaaaaaaaaa/..",
        "5:-:f/aaaaaaaaaaaaaaaa",
        "",
      ];
      for (const id of bad) {
        await expect(a.readFileStream(id), id).rejects.toBeInstanceOf(InvalidIdError);
        await expect(a.deleteFile(id), id).rejects.toBeInstanceOf(InvalidIdError);
        await expect(a.updateFileStream(id, () => {}), id).rejects.toBeInstanceOf(InvalidIdError);
      }
      for (const name of ["../x", "/abs", "a/b", ".hidden", "..", "a\0b", ""]) {
        await expect(a.writeSharedFile(name, "x"), name).rejects.toBeInstanceOf(InvalidIdError);
        await expect(a.readSharedFile(name), name).rejects.toBeInstanceOf(InvalidIdError);
      }
      for (const id of ["../x", "a/b", "a\0b", "", "x".repeat(200)]) {
        await expect(a.loadJob(id), id).rejects.toBeInstanceOf(InvalidIdError);
        await expect(a.deleteJob(id), id).rejects.toBeInstanceOf(InvalidIdError);
        await expect(a.writeResult(id, "1"), id).rejects.toBeInstanceOf(InvalidIdError);
      }
      // User text in basenames and hints is sanitized, never refused.
      const id = await a.writeFileStream((s) => void s.write("x"), { basename: "../../evil\0name", hints: ["../h", "/x"] });
      expect(id).not.toContain("..");
      expect(await text(await a.readFileStream(id))).toBe("x");
    });
  });
}

/** Registers the "import and export" suite: file and http URLs, in and out. */
export function describeImportExportSuite({ pair }: ConformanceContext): void {
  describe("import and export", () => {
    let server: http.Server;
    let baseUrl: string;
    const payload = randomBytes(200_000);
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (req.url === "/data.bin") {
          res.writeHead(200, { "content-length": payload.length });
          res.end(payload);
        } else if (req.url === "/redirect") {
          res.writeHead(302, { location: "/data.bin" });
          res.end();
        } else if (req.url === "/short") {
          res.writeHead(200, { "content-length": 1000 });
          res.write(Buffer.alloc(10));
          res.destroy();
        } else {
          res.writeHead(404);
          res.end("not here");
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("(68) file import/export round-trips sizes 0..5 MiB+1 with the executable bit", async () => {
      const { a } = await pair();
      const dir = makeTempDir();
      try {
        for (const size of [0, 1, 1024 * 1024, 5 * 1024 * 1024 - 1, 5 * 1024 * 1024, 5 * 1024 * 1024 + 1]) {
          const data = randomBytes(size);
          const src = path.join(dir, `in-${size}`);
          fs.writeFileSync(src, data, { mode: size % 2 ? 0o755 : 0o644 });
          const id = (await a.importFile(`file://${src}`))!;
          expect(await a.getFileSize(id)).toBe(size);
          const dst = path.join(dir, `out-${size}`);
          await a.exportFile(id, dst);
          expect(md5(fs.readFileSync(dst))).toBe(md5(data));
          expect((fs.statSync(dst).mode & 0o100) !== 0).toBe(size % 2 === 1);
        }
        // Relative paths without a scheme, and import to a shared file.
        const rel = path.relative(process.cwd(), path.join(dir, "in-1"));
        expect(await a.importFile(rel)).toBeDefined();
        expect(await a.importFile(path.join(dir, "in-1"), { sharedFileName: "imported" })).toBeUndefined();
        expect((await a.readSharedFile("imported")).length).toBe(1);
        await expect(a.importFile(path.join(dir, "missing"))).rejects.toBeInstanceOf(InvalidImportExportUrlError);
        await expect(a.importFile("nosuchscheme://x/y")).rejects.toBeInstanceOf(InvalidImportExportUrlError);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("(68) http import: streamed, redirects followed, 404 and short bodies are clear errors", async () => {
      const { a } = await pair();
      const id = (await a.importFile(`${baseUrl}/data.bin`))!;
      expect(id.endsWith("data.bin")).toBe(true);
      expect(await a.getFileSize(id)).toBe(payload.length);
      const again = (await a.importFile(`${baseUrl}/redirect`))!;
      const chunks: Buffer[] = [];
      for await (const c of await a.readFileStream(again)) chunks.push(c as Buffer);
      expect(md5(Buffer.concat(chunks))).toBe(md5(payload));
      await expect(a.importFile(`${baseUrl}/missing`)).rejects.toThrow(/404/);
      await expect(a.importFile(`${baseUrl}/short`)).rejects.toBeInstanceOf(InvalidImportExportUrlError);
      await expect(a.exportFile(id, `${baseUrl}/upload`)).rejects.toBeInstanceOf(InvalidImportExportUrlError);
    });
  });
}
