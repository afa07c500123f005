/**
 * Documents marked as an older CWL version are read with the v1.2 schema, so syntax that only a
 * newer version has must be refused here: a v1.0 document with v1.1 syntax is invalid, and so is a
 * v1.0 or v1.1 document with v1.2 syntax.
 *
 * - v1.1 added: secondaryFiles as `{pattern, required}` objects; `loadContents`/`loadListing` on
 *   parameters.
 * - v1.2 added: `when` and `pickValue` on workflow steps and outputs; fractional ResourceRequirement
 *   values.
 */
import { CwlDocumentError } from "../errors.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const ORDER = ["v1.0", "v1.1", "v1.2"];
const RESOURCE_FIELDS = ["coresMin", "coresMax", "ramMin", "ramMax", "tmpdirMin", "tmpdirMax", "outdirMin", "outdirMax"];

function entries(v: unknown): Obj[] {
  if (Array.isArray(v)) return v.filter(isObj);
  if (isObj(v)) return Object.entries(v).map(([k, x]) => (isObj(x) ? { id: k, ...x } : { id: k, type: x }));
  return [];
}

/** Throw {@link CwlDocumentError} when a document of `version` uses syntax of a later version. */
export function checkVersionSyntax(raw: unknown, version: string, source: string): void {
  const v = ORDER.indexOf(version);
  if (v < 0 || v >= ORDER.length - 1) return;
  const fail = (what: string, since: string): never => {
    throw new CwlDocumentError(`${source} is marked cwlVersion ${version} but uses ${what}, which needs cwlVersion ${since} or later.`);
  };
  const params = (list: unknown): void => {
    for (const p of entries(list)) {
      if (v < 1) {
        for (const sf of Array.isArray(p.secondaryFiles) ? p.secondaryFiles : [p.secondaryFiles]) {
          if (isObj(sf)) fail(`secondaryFiles as {pattern, required} (input '${String(p.id)}')`, "v1.1");
        }
        if ("loadContents" in p || "loadListing" in p) fail(`loadContents/loadListing on parameter '${String(p.id)}'`, "v1.1");
      }
      if ("pickValue" in p) fail(`pickValue (output '${String(p.id)}')`, "v1.2");
    }
  };
  const requirements = (list: unknown): void => {
    for (const r of entries(list)) {
      const cls = r.class ?? r.id;
      if (cls !== "ResourceRequirement") continue;
      for (const f of RESOURCE_FIELDS) {
        const x = r[f];
        if (typeof x === "number" && !Number.isInteger(x)) fail(`a fractional ResourceRequirement.${f} (${x})`, "v1.2");
      }
    }
  };
  const process = (p: unknown): void => {
    if (!isObj(p)) return;
    if (typeof p.cwlVersion === "string" && p.cwlVersion !== version) return;
    params(p.inputs);
    params(p.outputs);
    requirements(p.requirements);
    requirements(p.hints);
    for (const s of entries(p.steps)) {
      if ("when" in s) fail(`'when' on step '${String(s.id)}'`, "v1.2");
      for (const i of entries(s.in)) if ("pickValue" in i) fail(`pickValue (step '${String(s.id)}')`, "v1.2");
      requirements(s.requirements);
      process(s.run);
    }
  };
  if (isObj(raw) && Array.isArray(raw.$graph)) raw.$graph.forEach(process);
  else process(raw);
}

/** Extensions of the reference runner that CWL v1.1 made standard requirements (same fields). */
const LEGACY_CLASSES: Readonly<Record<string, string>> = {
  "http://commonwl.org/cwltool#WorkReuse": "WorkReuse",
  "http://commonwl.org/cwltool#TimeLimit": "ToolTimeLimit",
  "http://commonwl.org/cwltool#NetworkAccess": "NetworkAccess",
  "http://commonwl.org/cwltool#InplaceUpdateRequirement": "InplaceUpdateRequirement",
  "http://commonwl.org/cwltool#LoadListingRequirement": "LoadListingRequirement",
};

/**
 * Upgrade a resolved v1.0 or v1.1 document in place to what it means in v1.2, as the reference
 * runner does: the reference runner's extensions that became standard requirements take their
 * standard names, and a v1.0 CommandLineTool gets `NetworkAccess: true` as a hint (v1.0 had no way
 * to ask for the network, and tools had it). v1.0's deep directory listings are applied where
 * listings are read (see `listingView`).
 */
export function upgradeLegacyDocument(raw: unknown, version: string): void {
  if (version !== "v1.0" && version !== "v1.1") return;
  const rename = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const r of list) if (isObj(r) && typeof r.class === "string" && LEGACY_CLASSES[r.class] !== undefined) r.class = LEGACY_CLASSES[r.class];
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObj(node)) return;
    if (typeof node.cwlVersion === "string" && node.cwlVersion !== version) return;
    rename(node.requirements);
    rename(node.hints);
    if (version === "v1.0" && node.class === "CommandLineTool") {
      const hints = Array.isArray(node.hints) ? node.hints : [];
      const declared = [...hints, ...(Array.isArray(node.requirements) ? node.requirements : [])].some((r) => isObj(r) && r.class === "NetworkAccess");
      if (!declared) node.hints = [...hints, { class: "NetworkAccess", networkAccess: true }];
    }
    for (const [k, v] of Object.entries(node)) if (k !== "default" && k !== "hints" && k !== "requirements") walk(v);
  };
  walk(raw);
}
