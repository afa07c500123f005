/**
 * Reading CWL documents and input objects: `file:` URLs (and plain paths) from disk, `http(s):` with
 * fetch. YAML (JSON included) is parsed with js-yaml.
 */
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { CwlDocumentError } from "../errors.js";
import { stripFragment, urlToPath } from "./uri.js";

const textCache = new Map<string, string>();

/** The text at `url` (cached per URL for the life of the process). */
export async function fetchText(url: string): Promise<string> {
  const key = stripFragment(url);
  const hit = textCache.get(key);
  if (hit !== undefined) return hit;
  let text: string;
  const local = urlToPath(key);
  if (local !== undefined) {
    try {
      text = readFileSync(local, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CwlDocumentError(
        code === "ENOENT" ? `${local} does not exist. Check the path.` : `Cannot read ${local}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  } else if (/^https?:/.test(key)) {
    let res: Response;
    try {
      res = await fetch(key);
    } catch (err) {
      throw new CwlDocumentError(`Cannot fetch ${key}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new CwlDocumentError(`Cannot fetch ${key}: HTTP ${res.status} ${res.statusText}`);
    text = await res.text();
  } else {
    throw new CwlDocumentError(`Cannot read ${key}: only file:, http: and https: locations are supported.`);
  }
  textCache.set(key, text);
  return text;
}

/** Parse YAML (or JSON) text, naming the source in errors. */
export function parseYaml(text: string, source: string): unknown {
  try {
    // A leading `#!` line is a YAML comment already; JSON with comments is YAML too.
    return yaml.load(text, { filename: source });
  } catch (err) {
    throw new CwlDocumentError(`${source} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
}
