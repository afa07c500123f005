/**
 * URI helpers for CWL documents: ids and links are IRIs resolved against the document's URL (and
 * against the id of the enclosing object, for scoped ids and references).
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** True for a string with a URI scheme (`file:`, `http:`, `_:`), not a Windows-free relative path. */
export function hasScheme(s: string): boolean {
  return SCHEME.test(s) || s.startsWith("_:");
}

/** The `file:` URL of a local path (absolute or relative to `cwd`). */
function fileUrl(p: string, cwd = process.cwd()): string {
  return pathToFileURL(path.resolve(cwd, p)).href;
}

/** A path or URL given on the command line, as a URL. */
export function toUrl(pathOrUrl: string, cwd = process.cwd()): string {
  return hasScheme(pathOrUrl) ? pathOrUrl : fileUrl(pathOrUrl, cwd);
}

/** The local path of a `file:` URL (percent-decoded), or undefined for other schemes. */
export function urlToPath(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  return fileURLToPath(stripFragment(url));
}

/** Split a URI at its `#`. */
export function splitFragment(uri: string): [string, string | undefined] {
  const i = uri.indexOf("#");
  return i < 0 ? [uri, undefined] : [uri.slice(0, i), uri.slice(i + 1)];
}

/** The URI without its fragment. */
export function stripFragment(uri: string): string {
  return splitFragment(uri)[0];
}

/**
 * Resolve a reference against a base URI (RFC 3986, as `new URL`). A reference that is only a
 * fragment (`#x`) keeps the base document.
 */
export function resolveUri(ref: string, base: string): string {
  if (hasScheme(ref)) return ref;
  if (ref.startsWith("#")) return `${stripFragment(base)}${ref}`;
  if (base.startsWith("_:")) return ref;
  try {
    return new URL(ref, stripFragment(base)).href;
  } catch {
    return ref;
  }
}

/** Expand a `prefix:name` CURIE with the document's `$namespaces`, if the prefix is declared. */
export function expandCurie(value: string, namespaces: Readonly<Record<string, string>>): string {
  const colon = value.indexOf(":");
  if (colon <= 0) return value;
  const prefix = value.slice(0, colon);
  const ns = namespaces[prefix];
  if (ns === undefined) return value;
  return ns + value.slice(colon + 1);
}

/** The last segment of an id's fragment (or of its path when it has none): `file:///a.cwl#main/step/x` → `x`. */
export function shortName(uri: string): string {
  const [, frag] = splitFragment(uri);
  const tail = frag ?? uri;
  const parts = tail.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? tail;
}

/**
 * The name of `uri` relative to the process whose id is `scope`: `file:///a.cwl#main/step/x` in
 * `file:///a.cwl#main` is `step/x`. Falls back to the fragment when `uri` is outside `scope`.
 */
export function localName(uri: string, scope: string): string {
  const prefix = scope.includes("#") ? `${scope}/` : `${scope}#`;
  if (uri.startsWith(prefix)) return uri.slice(prefix.length);
  const [, frag] = splitFragment(uri);
  return frag ?? shortName(uri);
}
