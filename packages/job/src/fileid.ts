/**
 * `FileID`: the id of a file in the job store, as a branded string. @toil/filestore mints and parses
 * it (it encodes the basename, size and executable bit); here it is only a type, so jobs can pass file
 * ids as arguments, return them and store them in fields like any other string.
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
