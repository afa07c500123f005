import { accessSync, constants, readdirSync, statSync, type Stats } from "node:fs";
import path from "node:path";
import { ConfigError } from "@toil/job";

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function whoAmI(): string {
  return typeof process.getuid === "function" ? `this user (uid ${process.getuid()})` : "this user";
}

/**
 * Check that a file job store location can be used before anything is created or changed, so a
 * wrong `--jobStore` fails with a message that says what to do instead of a raw ENOTDIR or EACCES:
 *
 * - a new workflow needs a path that does not exist yet (or an empty directory) under a directory
 *   this user may write to; a file, or a non-empty directory that is not a job store, is refused;
 * - `--restart` needs the store directory (and its top-level directories) to be writable, since
 *   the leader records its progress there.
 *
 * Permissions are checked with access(2), i.e. for the real user: root passes them, as it does
 * when it writes. Other job store kinds (`kind:rest` locators) are not checked here.
 *
 * @param locator the normalized locator (absolute path or `file:` + absolute path)
 * @param given the value as the user wrote it, for messages
 * @param source where the value came from, e.g. `--jobStore`
 * @param cwd the directory relative paths were resolved against
 */
export function checkJobStoreLocation(locator: string, restart: boolean, given: string, source: string, cwd = process.cwd()): void {
  let root: string;
  if (locator.startsWith("file:")) root = locator.slice("file:".length);
  else if (path.isAbsolute(locator)) root = locator;
  else return; // another kind of job store: its implementation checks its own locations
  const fail = (problem: string): never => {
    const relative = !path.isAbsolute(given.replace(/^file:/, ""));
    const note = relative ? ` (the relative path ${JSON.stringify(given)} is resolved against the current directory ${cwd})` : "";
    throw new ConfigError(`Invalid configuration:\n  jobStore (from ${source}): ${problem}${note}`, [{ option: "jobStore", message: problem }]);
  };
  const st = statOrUndefined(root);
  if (st !== undefined && !st.isDirectory()) {
    fail(
      restart
        ? `${root} is a file, not a job store directory; give the directory the workflow was started with`
        : `${root} is a file, not a directory; give a path that does not exist yet (toil creates the job store there)`,
    );
  }
  if (restart) {
    // A missing store is reported by the restart itself ("no workflow to restart").
    if (st === undefined) return;
    const unwritable = [root, ...topLevelDirs(root)].filter((d) => !writable(d));
    if (unwritable.length > 0) {
      fail(
        `the job store ${root} is read-only for ${whoAmI()} (${unwritable.slice(0, 3).join(", ")}${unwritable.length > 3 ? ", ..." : ""} ` +
          `not writable); the leader records its progress in the store: make it writable again (chmod -R u+w ${root}) ` +
          `or restart from a writable copy of it`,
      );
    }
    return;
  }
  if (st !== undefined) {
    let entries: string[];
    try {
      entries = readdirSync(root);
    } catch {
      entries = [];
    }
    // A directory that already is a job store (or is being made into one by another leader right
    // now) is reported by the start itself ("already holds a workflow").
    const storeLike = entries.some((e) => e === "format.json" || e === "meta" || e === "jobs");
    if (entries.length > 0 && !storeLike) {
      fail(
        `${root} is a directory that is not empty and is not a job store; toil creates the job store itself: ` +
          `give a path that does not exist yet, e.g. ${path.join(root, "jobstore")}`,
      );
    }
    if (entries.length === 0 && !writable(root)) {
      fail(`the directory ${root} is not writable by ${whoAmI()}; give a writable location or fix its permissions (chmod u+w ${root})`);
    }
    return;
  }
  // A new store: the nearest existing ancestor must be a directory this user may create entries in.
  let parent = path.dirname(root);
  while (statOrUndefined(parent) === undefined && path.dirname(parent) !== parent) parent = path.dirname(parent);
  const pst = statOrUndefined(parent);
  if (pst !== undefined && !pst.isDirectory()) {
    fail(`cannot create the job store ${root}: ${parent} is a file, not a directory`);
  }
  if (!writable(parent)) {
    fail(
      `cannot create the job store ${root}: the directory ${parent} is not writable by ${whoAmI()}; ` +
        `choose a writable location or fix its permissions (chmod u+w ${parent})`,
    );
  }
}

function topLevelDirs(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(root, e.name));
  } catch {
    return [];
  }
}
