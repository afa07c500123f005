/**
 * Directories that can change in place (InplaceUpdateRequirement). A Directory value is a listing
 * of stored files; a value already handed to other steps cannot change. So each Directory the
 * runner stores gets an identity in its location (`_:toildir/<id>/<name>`), and a tool that updates
 * one in place records its new listing under that identity; every tool that later receives a
 * Directory with that identity, and the export of a run's outputs, read the recorded listing.
 */
import { randomBytes } from "node:crypto";
import type { CwlFileOrDirectory } from "../files.js";
import type { CwlDirectory } from "../model.js";

/** Where the listing of a changed Directory is kept. */
export interface DirectoryStates {
  /** The listing recorded for a Directory identity, if it changed. */
  readDirectoryState(id: string): Promise<CwlFileOrDirectory[] | undefined>;
  /** Record a Directory's new listing (its files already stored). */
  writeDirectoryState(id: string, listing: readonly CwlFileOrDirectory[]): Promise<void>;
}

const IDENTITY = /^_:toildir\/([0-9a-f]{16,64})\//;

/** A new location with an identity, for a Directory named `basename`. */
export function newDirectoryLocation(basename: string): string {
  return `_:toildir/${randomBytes(12).toString("hex")}/${basename}`;
}

/** The identity in a Directory's location, if it has one. */
export function directoryIdentity(location: string | undefined): string | undefined {
  return location === undefined ? undefined : IDENTITY.exec(location)?.[1];
}

/** `value` with the listing of every Directory that changed in place replaced by its recorded listing. */
export async function refreshDirectories<T>(value: T, states: Partial<DirectoryStates>): Promise<T> {
  const read = states.readDirectoryState?.bind(states);
  if (read === undefined) return value;
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (o.class === "File") {
      return Array.isArray(o.secondaryFiles) ? { ...o, secondaryFiles: await walk(o.secondaryFiles) } : o;
    }
    if (o.class === "Directory") {
      const d = o as CwlDirectory;
      const id = directoryIdentity(d.location);
      const recorded = id !== undefined ? await read(id) : undefined;
      const listing = recorded ?? d.listing;
      return listing === undefined ? d : { ...d, listing: await walk(listing) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = await walk(x);
    return out;
  };
  return (await walk(value)) as T;
}
