/**
 * `FileID`: the id of a file in the job store, as a branded string. @toil/filestore mints and parses
 * it; here it is a type (so jobs can pass file ids as arguments, return them and store them in fields
 * like any other string) plus the two facts every id carries from when it was written, its size and
 * its executable bit: every job store's ids start with `<size>:<flags>:`.
 */
declare const fileIdBrand: unique symbol;

/** The id of a file in the job store. Only @toil/filestore creates these. */
export type FileID = string & {
  /** Type-level brand: only ids minted by a job store have it. */
  readonly [fileIdBrand]: true;
};

/** Mark a string as a FileID. For FileStore / JobStore implementations; workflow code receives FileIDs from them. */
export function asFileID(id: string): FileID {
  return id as FileID;
}

const PREFIX_RE = /^(\d{1,16}):(-|x?l?):/;

function prefixOf(id: FileID | string, what: string): RegExpExecArray {
  const m = typeof id === "string" ? PREFIX_RE.exec(id) : null;
  if (m === null || m[2] === "") {
    throw new TypeError(
      `FileID.${what}(): ${JSON.stringify(typeof id === "string" ? id.slice(0, 80) : id)} is not a FileID ` +
        "(ids returned by writeGlobalFile, importFile and the like start with <size>:<flags>:).",
    );
  }
  return m;
}

/**
 * What a {@link FileID} says about its file without asking the job store (Toil's `FileID.size` and
 * `FileID.executable`):
 *
 * ```ts
 * const id = await fileStore.writeGlobalFile(path);
 * FileID.size(id);        // bytes written
 * ```
 */
export const FileID = {
  /**
   * Size in bytes of the file when this id was minted (writing, importing or updating it returns a
   * new id with the new size). Throws `TypeError` for a string that is not a FileID.
   */
  size(id: FileID | string): number {
    return Number(prefixOf(id, "size")[1]);
  },
  /** Whether the file was executable when this id was minted. Throws `TypeError` for a string that is not a FileID. */
  executable(id: FileID | string): boolean {
    return prefixOf(id, "executable")[2]!.includes("x");
  },
} as const;
