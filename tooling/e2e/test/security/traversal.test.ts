/**
 * Path traversal: file ids, shared-file names, job ids, basenames, hints, job names (log files),
 * temp-file names, URL imports and symlinks planted inside a store must never reach a path
 * outside the store (or the temp dir). Every attempt is refused with a typed error, or its name
 * is rewritten into a safe one; a sentinel tree outside the store is checked to stay untouched.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultConfig, ToilError } from "@toil/job";
import { InvalidIdError, openJobStore, writeLogFiles, type JobStore } from "@toil/filestore";
import { recordFigure, tempDir } from "../../src/index.js";

const SUITE = "security/traversal";
let refused = 0;
let rewritten = 0;

const base = tempDir("toil-sec-trav-");
const outside = path.join(base, "outside");
const storeDir = path.join(base, "deep", "a", "b", "js");
let store: JobStore;

/** Everything under `dir` (relative paths), to prove nothing was created outside the store. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}
const outsideBefore = (): string[] => tree(outside);

async function expectRefused(what: string, attempt: () => Promise<unknown> | unknown): Promise<void> {
  let err: unknown;
  try {
    await attempt();
  } catch (e) {
    err = e;
  }
  expect(err, `${what} was not refused`).toBeInstanceOf(ToilError);
  expect((err as Error).message.length).toBeGreaterThan(10);
  refused++;
}

beforeAll(async () => {
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, "secret.txt"), "secret");
  store = openJobStore(storeDir);
  await store.initialize(defaultConfig({ jobStore: storeDir }) as never);
});

afterAll(() => {
  recordFigure({ suite: SUITE, name: "traversal attempts refused", value: refused });
  recordFigure({ suite: SUITE, name: "unsafe names rewritten inside the store", value: rewritten });
  rmSync(base, { recursive: true, force: true });
});

const HOSTILE_PATHS = [
  "../../../outside/secret.txt",
  "../outside",
  "..",
  ".",
  "/etc/passwd",
  path.join(outside, "secret.txt"),
  "a/../../b",
  "a\0b",
  "..\\..\\x",
  "",
];

describe("file ids", () => {
  const ids = [
    ...HOSTILE_PATHS,
    "0:-:f/../secret.txt",
    "0:-:f/abcdefghijkl/../../../outside/secret.txt",
    "0:-:f/abcdefghijkl/..",
    "0:-:f/abcdefghijkl/.",
    "0:-:f/../../x",
    "0:-:j/../abcdefghijkl/x",
    "0:-:j/../../abcdefghijkl/x",
    "0:-:/etc/passwd",
    "0:-:f//etc/passwd",
    "0:-:f/abcdefghijkl/a\0b",
    "0:-:f/..%2F..%2Fx/y",
    `0:-:f/${"../".repeat(40)}x/y`,
  ];
  it("every operation refuses malformed or escaping file ids with InvalidIdError", async () => {
    const before = outsideBefore();
    const local = path.join(base, "local.txt");
    writeFileSync(local, "x");
    for (const id of ids) {
      await expectRefused(`readFile ${id}`, () => store.readFile(id, path.join(base, "copy")));
      await expectRefused(`readFileStream ${id}`, () => store.readFileStream(id));
      await expectRefused(`updateFile ${id}`, () => store.updateFile(id, local));
      await expectRefused(`deleteFile ${id}`, () => store.deleteFile(id));
      await expectRefused(`fileExists ${id}`, () => store.fileExists(id));
      await expectRefused(`getFileSize ${id}`, () => store.getFileSize(id));
    }
    expect(outsideBefore()).toEqual(before);
    expect(readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("secret");
  });
});

describe("shared-file names and job ids", () => {
  it("refuses names with separators, dots, NUL or absolute paths", async () => {
    const before = outsideBefore();
    for (const name of [...HOSTILE_PATHS, ".hidden", "a/b", "shared/../x"]) {
      await expectRefused(`writeSharedFile ${name}`, () => store.writeSharedFile(name, "x"));
      await expectRefused(`readSharedFile ${name}`, () => store.readSharedFile(name));
      await expectRefused(`sharedFileExists ${name}`, () => store.sharedFileExists(name));
    }
    for (const id of [...HOSTILE_PATHS, "a/b", "x".repeat(300)]) {
      await expectRefused(`loadJob ${id}`, () => store.loadJob(id));
      await expectRefused(`jobExists ${id}`, () => store.jobExists(id));
      await expectRefused(`readResult ${id}`, () => store.readResult(id));
      await expectRefused(`writeResult ${id}`, () => store.writeResult(id, "1"));
    }
    expect(outsideBefore()).toEqual(before);
  });
});

describe("names that become file names are rewritten", () => {
  it("basenames and hints with ../, absolute paths and NUL stay inside the store", async () => {
    const before = outsideBefore();
    const local = path.join(base, "payload.txt");
    writeFileSync(local, "payload");
    for (const name of HOSTILE_PATHS) {
      const id = await store.writeFile(local, { basename: name, hints: [name, "../../hint"] });
      expect(id).not.toContain("..");
      expect(id.split(":").slice(2).join(":").split("/").every((p) => p !== "" && p !== "." && p !== "..")).toBe(true);
      const copy = path.join(base, "copy.txt");
      await store.readFile(id, copy);
      expect(readFileSync(copy, "utf8")).toBe("payload");
      rewritten++;
    }
    expect(outsideBefore()).toEqual(before);
  });

  it("job names used for --writeLogs file names cannot leave the log directory", () => {
    const logs = path.join(base, "logs");
    for (const name of HOSTILE_PATHS) {
      const file = writeLogFiles(logs, [name, `${name}/more`], ["line"]);
      expect(path.dirname(file)).toBe(logs);
      rewritten++;
    }
    expect(tree(logs).every((f) => !f.includes(path.sep))).toBe(true);
  });

  it("a URL import whose path decodes to ../ gets a safe basename", async () => {
    const server = createServer((_req, res) => res.end("from the web"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const p of ["/..%2F..%2Foutside%2Fsecret.txt", "/%2Fetc%2Fpasswd", "/a%00b", "/.."]) {
        const id = await store.importFile(`http://127.0.0.1:${port}${p}`);
        expect(id).toBeDefined();
        expect(String(id)).not.toMatch(/(^|\/)\.\.?(\/|$)/);
        const copy = path.join(base, "web.txt");
        await store.readFile(id as string, copy);
        expect(readFileSync(copy, "utf8")).toBe("from the web");
        rewritten++;
      }
      await expectRefused("import into a shared name with ../", () =>
        store.importFile(`http://127.0.0.1:${port}/x`, { sharedFileName: "../../outside/pwned" }),
      );
    } finally {
      server.close();
    }
    expect(existsSync(path.join(outside, "pwned"))).toBe(false);
  });
});

describe("symlinks planted inside a store", () => {
  it("a file whose directory or entry was replaced by a symlink to outside is refused", async () => {
    const local = path.join(base, "payload.txt");
    writeFileSync(local, "payload");
    // Entry replaced by a symlink to a secret outside.
    const a = await store.writeFile(local, { basename: "a.txt" });
    const aPath = findStored(storeDir, "a.txt");
    rmSync(aPath);
    symlinkSync(path.join(outside, "secret.txt"), aPath);
    await expectRefused("read through a planted entry symlink", () => store.readFile(a, path.join(base, "leak")));
    await expectRefused("stream through a planted entry symlink", () => store.readFileStream(a));
    expect(existsSync(path.join(base, "leak"))).toBe(false);
    // Directory of a file replaced by a symlink to a directory outside.
    const b = await store.writeFile(local, { basename: "b.txt" });
    const bDir = path.dirname(findStored(storeDir, "b.txt"));
    renameSync(bDir, `${bDir}.moved`);
    mkdirSync(path.join(outside, "fake"), { recursive: true });
    writeFileSync(path.join(outside, "fake", "b.txt"), "attacker data");
    symlinkSync(path.join(outside, "fake"), bDir);
    await expectRefused("read through a planted directory symlink", () => store.readFile(b, path.join(base, "leak2")));
    await expectRefused("update through a planted directory symlink", () => store.updateFile(b, local));
    await expectRefused("delete through a planted directory symlink", () => store.deleteFile(b));
    expect(readFileSync(path.join(outside, "fake", "b.txt"), "utf8")).toBe("attacker data");
  });

  it("a store whose top-level directory was replaced by a symlink to outside is refused when opened", async () => {
    const dir = path.join(base, "js2");
    const s = openJobStore(dir);
    await s.initialize(defaultConfig({ jobStore: dir }) as never);
    mkdirSync(path.join(outside, "shared"), { recursive: true });
    rmSync(path.join(dir, "shared"), { recursive: true });
    symlinkSync(path.join(outside, "shared"), path.join(dir, "shared"));
    await expectRefused("resume a store with a planted top-level symlink", () => openJobStore(dir).resume());
    expect(readdirSync(path.join(outside, "shared"))).toEqual([]);
  });
});

/** The stored path of the (only) file with this basename. */
function findStored(root: string, basename: string): string {
  const hit = tree(root).find((f) => path.basename(f) === basename && !f.includes(".tmp-"));
  if (!hit) throw new Error(`${basename} not found in the store`);
  return path.join(root, hit);
}

it("InvalidIdError names the bad value", async () => {
  const err = await store.readFileStream("0:-:f/../x").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidIdError);
  expect((err as Error).message).toContain("0:-:f/../x");
});
