/**
 * Ids of things in the job store, and the sanitizing of user text that goes into them.
 *
 * A FileID reads `<size>:<flags>:<key>` where `flags` is `-` or letters (`x` executable, `l` stored
 * as a link to an imported file) and `key` is either `f/<token>/<basename>` (a file with its own
 * lifetime) or `j/<jobId>/<token>/<basename>` (a file deleted with that job). `token` is the file's
 * random part, prefixed by sanitized hints: `Hint.OtherHint.k3v9...`. Every part is checked
 * against a strict pattern, so an id can never name a path outside the store.
 */
import { randomBytes } from "node:crypto";
import { asFileID, type FileID } from "@toil/job/core";
import { InvalidIdError } from "./errors.js";

const JOB_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const RAND_RE = /^[0-9a-z]{16}$/;
const HINT_RE = /^[A-Za-z0-9_-]{1,40}$/;
const BASENAME_RE = /^(?!\.\.?$)[A-Za-z0-9._-]{1,120}$/;
const SHARED_NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** What a FileID says about its file. */
export interface ParsedFileId {
  /** Size in bytes when the id was minted (the file may have been updated since). */
  size: number;
  /** The file had its executable bit set when written. */
  executable: boolean;
  /** The stored entry is a symlink to an imported file (the store never writes through it). */
  link: boolean;
  /** Owning job for files deleted with their job, else undefined. */
  jobId: string | undefined;
  /** Random part of the id (determines the storage path). */
  rand: string;
  /** Hints given when the file was written (they prefix the random part). */
  hints: string[];
  /** The file's name when it was written (sanitized). */
  basename: string;
  /** The id without its size and flags: stable across updates of the file. */
  key: string;
}

export function randomToken(): string {
  // 16 base-36 characters (~82 bits) from crypto randomness.
  const bytes = randomBytes(16);
  let out = "";
  for (const b of bytes) out += (b % 36).toString(36);
  return out;
}

/** Check a job id from outside (argv, a file, a description). */
export function assertJobId(id: string): string {
  if (typeof id !== "string" || !JOB_ID_RE.test(id)) {
    throw new InvalidIdError("job id", String(id), "job ids are 1-128 characters from A-Z a-z 0-9 _ -");
  }
  return id;
}

export function isValidJobId(id: string): boolean {
  return JOB_ID_RE.test(id);
}

/** Shard directory (two hex digits, FNV-1a of the id) spreading ids over 256 directories. */
export function shardOf(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) & 0xff).toString(16).padStart(2, "0");
}

/**
 * Turn user text (a job name, a file basename, a hint) into a safe name: runs of characters outside
 * `[A-Za-z0-9._-]` become `_`, leading dots are dropped, the length is capped.
 */
export function sanitizeName(text: string, maxLength = 120, fallback = "file"): string {
  let s = text.replace(/\0/g, "").replace(/[^A-Za-z0-9._-]+/g, "_").replace(/\.{2,}/g, "_").replace(/^\.+/, "");
  if (s.length > maxLength) s = s.slice(s.length - maxLength);
  s = s.replace(/^\.+/, "");
  return s === "" ? fallback : s;
}

function sanitizeHint(hint: string): string {
  return sanitizeName(hint, 40, "hint").replace(/\./g, "_");
}

/** Check a shared-file name (user-chosen, so refused rather than rewritten when unsafe). */
export function assertSharedFileName(name: string): string {
  if (typeof name !== "string" || !SHARED_NAME_RE.test(name)) {
    throw new InvalidIdError(
      "shared file name",
      String(name),
      "use 1-200 characters from A-Z a-z 0-9 . _ -, not starting with a dot",
    );
  }
  return name;
}

/** What {@link mintFileId} puts into an id. */
export interface MintFileIdInput {
  /** Size in bytes. */
  size: number;
  /** Whether the file is executable. */
  executable: boolean;
  /** The stored entry is a symlink to an imported file. */
  link?: boolean;
  /** Owning job, for a file deleted with its job. */
  jobId?: string;
  /** The file's name (sanitized into the id). */
  basename: string;
  /** Readable hints, e.g. the job name (at most 8 are kept, sanitized). */
  hints?: readonly string[];
  /** Random part (default: a fresh one); determines the storage path. */
  rand?: string;
}

/** Build a FileID (sanitizing basename and hints). */
export function mintFileId(input: MintFileIdInput): FileID {
  const basename = sanitizeName(input.basename);
  const hints = (input.hints ?? []).slice(0, 8).map(sanitizeHint);
  const rand = input.rand ?? randomToken();
  const token = [...hints, rand].join(".");
  const flags = `${input.executable ? "x" : ""}${input.link ? "l" : ""}` || "-";
  const key = input.jobId === undefined ? `f/${token}/${basename}` : `j/${assertJobId(input.jobId)}/${token}/${basename}`;
  return asFileID(`${Math.max(0, Math.floor(input.size))}:${flags}:${key}`);
}

/** Same file, different size/flags (after an update). */
export function withSize(id: ParsedFileId, size: number, executable = id.executable): FileID {
  return mintFileId({
    size,
    executable,
    link: id.link,
    ...(id.jobId === undefined ? {} : { jobId: id.jobId }),
    basename: id.basename,
    hints: id.hints,
    rand: id.rand,
  });
}

/** Parse and validate a FileID (or any string claiming to be one). */
export function parseFileId(id: string): ParsedFileId {
  const bad = (reason: string): never => {
    throw new InvalidIdError("file id", String(id), reason);
  };
  if (typeof id !== "string" || id.length > 1024) bad("not a file id string");
  if (id.includes("\0")) bad("contains a NUL byte");
  const first = id.indexOf(":");
  const second = first < 0 ? -1 : id.indexOf(":", first + 1);
  if (first < 0 || second < 0) bad("expected <size>:<flags>:<key>");
  const sizeText = id.slice(0, first);
  const flags = id.slice(first + 1, second);
  const key = id.slice(second + 1);
  if (!/^\d{1,16}$/.test(sizeText)) bad("size is not a number");
  if (!/^(-|x?l?)$/.test(flags) || flags === "") bad("unknown flags");
  const parts = key.split("/");
  let jobId: string | undefined;
  let token: string;
  let basename: string;
  if (parts[0] === "f" && parts.length === 3) {
    token = parts[1]!;
    basename = parts[2]!;
  } else if (parts[0] === "j" && parts.length === 4) {
    jobId = parts[1]!;
    if (!JOB_ID_RE.test(jobId)) bad("malformed job part");
    token = parts[2]!;
    basename = parts[3]!;
  } else {
    return bad("key must be f/<token>/<basename> or j/<jobId>/<token>/<basename>");
  }
  if (!BASENAME_RE.test(basename)) bad("malformed basename");
  const tokenParts = token.split(".");
  const rand = tokenParts.pop()!;
  if (!RAND_RE.test(rand)) bad("malformed random part");
  if (tokenParts.length > 8 || !tokenParts.every((h) => HINT_RE.test(h))) bad("malformed hints");
  return {
    size: Number(sizeText),
    executable: flags.includes("x"),
    link: flags.includes("l"),
    jobId,
    rand,
    hints: tokenParts,
    basename,
    key,
  };
}

/** True if the string parses as a FileID. */
export function isFileId(id: string): boolean {
  try {
    parseFileId(id);
    return true;
  } catch {
    return false;
  }
}
