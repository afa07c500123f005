/**
 * Loading a CWL process: read the document (and every document its steps `run`), apply the
 * schema-salad preprocessing, validate against the CWL v1.2 schema, and normalize (model.ts).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { CwlDocumentError, UnsupportedCwlFeatureError } from "../errors.js";
import type { Process } from "../model.js";
import { fetchText, parseYaml } from "./fetch.js";
import { normalizeProcess, type NormalizeContext } from "./normalize.js";
import { resolveDocument, type ResolvedDocument } from "./resolve.js";
import { schemaTable } from "./schema.js";
import { hasScheme, splitFragment, stripFragment, toUrl } from "./uri.js";
import { validateProcess } from "./validate.js";
import { checkVersionSyntax, upgradeLegacyDocument } from "./versions.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** CWL versions whose documents this loader reads (with the v1.2 schema). */
export const SUPPORTED_CWL_VERSIONS: readonly string[] = ["v1.0", "v1.1", "v1.2"];

/** Loads CWL documents, caching each document and process it reads. */
export class CwlLoader {
  private readonly docs = new Map<string, Promise<ResolvedDocument>>();
  private readonly ids = new Map<string, Obj>();
  private readonly processes = new Map<string, Promise<Process>>();

  /** Read and resolve one document (cached by URL). */
  document(url: string): Promise<ResolvedDocument> {
    const key = stripFragment(url);
    let p = this.docs.get(key);
    if (!p) {
      p = (async () => {
        const raw = parseYaml(await fetchText(key), key);
        if (isObj(raw) && typeof raw.cwlVersion === "string") checkVersionSyntax(raw, raw.cwlVersion, key);
        const doc = await resolveDocument(raw, key);
        for (const [id, obj] of doc.index) if (!this.ids.has(id)) this.ids.set(id, obj);
        return doc;
      })();
      p.catch(() => this.docs.delete(key));
      this.docs.set(key, p);
    }
    return p;
  }

  /**
   * Load the process at `pathOrUrl` (a path or URL, optionally with `#id` to pick one process of a
   * `$graph`; without it, `#main` or the only process).
   */
  load(pathOrUrl: string, cwd = process.cwd()): Promise<Process> {
    return this.process(processUrl(pathOrUrl, cwd), undefined);
  }

  private process(url: string, parent: NormalizeContext | undefined): Promise<Process> {
    let p = this.processes.get(url);
    if (!p) {
      p = this.loadProcess(url, parent);
      p.catch(() => this.processes.delete(url));
      this.processes.set(url, p);
    }
    return p;
  }

  private async loadProcess(url: string, parent: NormalizeContext | undefined): Promise<Process> {
    const doc = await this.document(url);
    const [, fragment] = splitFragment(url);
    const root = doc.root;
    let raw: Obj | undefined;
    let graph: Obj[] | undefined;
    if (isObj(root) && Array.isArray(root.$graph)) graph = root.$graph.filter(isObj);
    else if (Array.isArray(root)) graph = root.filter(isObj);
    if (fragment !== undefined && fragment !== "") {
      raw = doc.index.get(url) ?? this.ids.get(url);
      if (!raw) {
        const known = graph?.map((g) => `#${splitFragment(String(g.id))[1] ?? ""}`).join(", ");
        throw new CwlDocumentError(`${doc.url} has no process with id #${fragment}${known ? ` (it has ${known})` : ""}.`);
      }
    } else if (graph) {
      raw = graph.find((g) => g.id === `${doc.url}#main`) ?? (graph.length === 1 ? graph[0] : undefined);
      if (!raw) {
        const known = graph.map((g) => `${doc.url}#${splitFragment(String(g.id))[1] ?? ""}`).join(", ");
        throw new CwlDocumentError(`${doc.url} holds several processes and none is #main: name one (${known}).`);
      }
    } else if (isObj(root)) raw = root;
    if (!raw) throw new CwlDocumentError(`${doc.url} is not a CWL process (expected a map with a 'class').`);

    const topVersion = isObj(root) && typeof root.cwlVersion === "string" ? root.cwlVersion : undefined;
    const cwlVersion = (typeof raw.cwlVersion === "string" ? raw.cwlVersion : undefined) ?? topVersion ?? parent?.cwlVersion;
    if (cwlVersion === undefined) {
      throw new CwlDocumentError(`${doc.url} has no cwlVersion. Add 'cwlVersion: v1.2' at its top.`);
    }
    if (!SUPPORTED_CWL_VERSIONS.includes(cwlVersion)) {
      throw new CwlDocumentError(`${doc.url} is CWL ${cwlVersion}; this runner reads ${SUPPORTED_CWL_VERSIONS.join(", ")}.`);
    }
    upgradeLegacyDocument(raw, cwlVersion);
    checkRequirementClasses(raw, url);
    const toValidate = { ...raw };
    if (topVersion !== undefined && toValidate.cwlVersion === undefined) toValidate.cwlVersion = topVersion;
    validateProcess(toValidate, url);
    const ctx: NormalizeContext = {
      cwlVersion,
      namespaces: { ...(parent?.namespaces ?? {}), ...doc.namespaces },
      schemas: [...new Set([...(parent?.schemas ?? []), ...doc.schemas])],
      lookup: (id) => doc.index.get(id) ?? this.ids.get(id),
      loadRun: (runUrl, p) => this.process(runUrl, p),
    };
    return normalizeProcess({ ...raw, cwlVersion }, ctx);
  }
}

/** The URL of a process given as a path or URL; a path may end in `#id` (unless a file of that name exists). */
export function processUrl(pathOrUrl: string, cwd = process.cwd()): string {
  if (hasScheme(pathOrUrl)) return pathOrUrl;
  const hash = pathOrUrl.lastIndexOf("#");
  if (hash > 0 && !existsSync(path.resolve(cwd, pathOrUrl))) {
    return `${toUrl(pathOrUrl.slice(0, hash), cwd)}#${pathOrUrl.slice(hash + 1)}`;
  }
  return toUrl(pathOrUrl, cwd);
}

/** A requirement this loader does not know is an unsupported feature (exit 33), not a schema error. */
function checkRequirementClasses(raw: unknown, where: string): void {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObj(node)) return;
    for (const r of Array.isArray(node.requirements) ? node.requirements : []) {
      if (!isObj(r) || typeof r.class !== "string") continue;
      const known = schemaTable.records[r.class];
      if (!known || known.classSymbol !== r.class) {
        throw new UnsupportedCwlFeatureError(r.class, `${where}: requirement ${r.class} is not supported by this runner.`);
      }
    }
    for (const [k, v] of Object.entries(node)) if (k !== "hints" && k !== "default") walk(v);
  };
  walk(raw);
}

/** Load a CWL process from a path or URL (a fresh loader; see {@link CwlLoader} to share a cache). */
export function loadProcess(pathOrUrl: string, cwd = process.cwd()): Promise<Process> {
  return new CwlLoader().load(pathOrUrl, cwd);
}
