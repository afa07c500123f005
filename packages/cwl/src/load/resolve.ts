/**
 * The schema-salad preprocessing of a CWL document, driven by the link rules compiled from the CWL
 * v1.2 schema (`src/schema/cwl-v1.2.json`): `$import`/`$include`, `$namespaces`, idmaps (`inputs:
 * {x: File}`), the type DSL (`string[]?`), the secondaryFiles DSL (`.bai?`), ids resolved in the
 * scope of their parent, and links (`run`, `source`, `outputSource`, type names, formats)
 * resolved against the document and the ids it defines. Like schema-salad, the rules are keyed
 * by field name; validation against the record types comes after (validate.ts).
 *
 * Deliberate difference: inside `default` values (user data) only File/Directory `location`/`path`
 * are resolved; schema-salad would also rewrite any key that happens to be named `id`, `type` or
 * `source`.
 */
import { CwlDocumentError } from "../errors.js";
import { fetchText, parseYaml } from "./fetch.js";
import { expandCurie, hasScheme, resolveUri, splitFragment, stripFragment } from "./uri.js";
import { schemaTable, type LinkRule } from "./schema.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const isExpression = (s: string): boolean => s.includes("$(") || s.includes("${");

/** What resolution learned about a document. */
export interface ResolvedDocument {
  /** The document's URL (without fragment). */
  url: string;
  /** The resolved document: a process, or `{ $graph: [...] }`. */
  root: unknown;
  /** Every id the document defines, mapped to the object that carries it. */
  index: Map<string, Obj>;
  /** `$namespaces` of the document. */
  namespaces: Record<string, string>;
  /** `$schemas` of the document (ontology URLs, resolved). */
  schemas: string[];
}

interface PendingRef {
  holder: Obj | unknown[];
  key: string | number;
  field: string;
  ref: string;
  scopeId: string;
  refScope: number;
}

interface State {
  namespaces: Record<string, string>;
  index: Map<string, Obj>;
  pending: PendingRef[];
  vocab: ReadonlySet<string>;
}

/** Words of the CWL vocabulary that stay short (type names, classes, enum symbols). */
function vocabulary(): Set<string> {
  const v = new Set<string>(Object.keys(schemaTable.records));
  for (const [name, symbols] of Object.entries(schemaTable.enums)) {
    v.add(name);
    for (const s of symbols) v.add(s);
  }
  for (const t of ["null", "boolean", "int", "long", "float", "double", "string", "File", "Directory", "Any", "record", "enum", "array", "stdin", "stdout", "stderr"]) {
    v.add(t);
  }
  return v;
}

let vocabCache: Set<string> | undefined;

const TYPE_DSL = /^([^[?]+)(\[\])?(\?)?$/;

/** `string[]?` → `["null", {type: "array", items: "string"}]`. */
function typeDsl(t: unknown): unknown {
  if (typeof t !== "string") return t;
  const m = TYPE_DSL.exec(t);
  if (!m || (!m[2] && !m[3])) return t;
  let out: unknown = m[1];
  if (m[2]) out = { type: "array", items: m[1] };
  if (m[3]) out = ["null", out];
  return out;
}

function applyTypeDsl(value: unknown): unknown {
  if (typeof value === "string") return typeDsl(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const d = typeDsl(v);
      // A union member that expands to a union is flattened (`[File?, string]`).
      if (Array.isArray(d) && typeof v === "string") {
        for (const x of d) if (!out.some((y) => y === x)) out.push(x);
      } else out.push(d);
    }
    return out;
  }
  return value;
}

/** `.bai?` → `{pattern: ".bai", required: false}`. */
function secondaryFilesDsl(value: unknown): unknown {
  const one = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    if (v.endsWith("?")) return { pattern: v.slice(0, -1), required: false };
    return { pattern: v, required: null };
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** Turn an idmap (`{x: File}`) into the list form (`[{id: x, type: File}]`), keys sorted as schema-salad does. */
function expandIdmap(field: string, value: Obj, rule: LinkRule): unknown[] {
  const out: unknown[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    let entry: Obj;
    if (isObj(v) && !("$import" in v) && !("$include" in v)) entry = { ...v };
    else if (rule.mapPredicate !== undefined) entry = { [rule.mapPredicate]: v };
    else {
      throw new CwlDocumentError(
        `Field '${field}' maps '${key}' to ${JSON.stringify(v)}, but each entry must be an object (give '${key}' as its ${rule.mapSubject}).`,
      );
    }
    entry[rule.mapSubject!] = key;
    out.push(entry);
  }
  return out;
}

/** An id in the scope of `base`: `x` in `file:///a.cwl#main` → `file:///a.cwl#main/x`. */
function scopedId(id: string, base: string): string {
  if (hasScheme(id)) return id;
  if (id.startsWith("#")) return `${stripFragment(base)}${id}`;
  const [doc, frag] = splitFragment(base);
  return `${doc}#${frag ? `${frag}/${id}` : id}`;
}

function resolveScoped(ref: PendingRef, index: Map<string, Obj>): string {
  const [doc, frag] = splitFragment(ref.scopeId);
  const sp = frag !== undefined && frag !== "" ? frag.split("/") : [];
  let n = ref.refScope;
  while (n > 0 && sp.length > 0) {
    sp.pop();
    n--;
  }
  const tried: string[] = [];
  for (;;) {
    sp.push(ref.ref);
    const url = `${doc}#${sp.join("/")}`;
    tried.push(url);
    if (index.has(url)) return url;
    sp.pop();
    if (sp.length === 0) break;
    sp.pop();
  }
  throw new CwlDocumentError(
    `Field '${ref.field}' references unknown identifier '${ref.ref}' (tried ${tried.join(", ")}). Check the spelling, or declare it.`,
  );
}

class Resolver {
  constructor(
    private readonly state: State,
    private readonly fileUrl: string,
  ) {}

  /** Resolve a link value of `field` (`@id` or `@vocab`) found in an object whose scope is `scopeId`. */
  private link(field: string, rule: LinkRule, value: string, scopeId: string, holder: Obj | unknown[], key: string | number): string {
    if (isExpression(value)) return value;
    if (rule.link === "@vocab" && this.state.vocab.has(value)) return value;
    const expanded = expandCurie(value, this.state.namespaces);
    if (expanded !== value || hasScheme(value)) return expanded;
    if (field === "symbols") return value;
    if (rule.refScope !== undefined && !value.includes("#")) {
      this.state.pending.push({ holder, key, field, ref: value, scopeId, refScope: rule.refScope });
      return value;
    }
    if (rule.identity === true && field === "out") {
      const id = scopedId(value, scopeId);
      if (!this.state.index.has(id)) this.state.index.set(id, { id });
      return id;
    }
    // location/path/run/$schemas: relative to the document itself.
    return resolveUri(value, field === "run" || value.startsWith("#") ? scopeId : this.fileUrl);
  }

  /** Resolve `$import`/`$include` at this node; returns the replacement, or undefined. */
  private async importAt(node: Obj): Promise<{ value: unknown } | undefined> {
    if (typeof node.$include === "string") {
      const url = resolveUri(node.$include, this.fileUrl);
      return { value: await fetchText(url) };
    }
    if (typeof node.$import === "string") {
      const url = resolveUri(node.$import, this.fileUrl);
      const raw = parseYaml(await fetchText(url), url);
      const sub = new Resolver(this.state, stripFragment(url));
      const [, frag] = splitFragment(url);
      const value = await sub.node(raw, stripFragment(url), undefined);
      if (frag !== undefined) {
        const hit = this.state.index.get(url);
        if (!hit) throw new CwlDocumentError(`$import of ${url}: no object with id #${frag} in that document.`);
        return { value: hit };
      }
      return { value };
    }
    return undefined;
  }

  /** Resolve one value; `scopeId` is the id of the nearest enclosing object that has one. */
  async node(value: unknown, scopeId: string, subscope: string | undefined): Promise<unknown> {
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const item of value) {
        if (isObj(item)) {
          const imported = await this.importAt(item);
          if (imported) {
            // A list imported into a list is spliced in (schema-salad).
            if (Array.isArray(imported.value)) out.push(...imported.value);
            else out.push(imported.value);
            continue;
          }
        }
        out.push(await this.node(item, scopeId, subscope));
      }
      return out;
    }
    if (!isObj(value)) return value;
    const imported = await this.importAt(value);
    if (imported) return imported.value;
    return this.object(value, scopeId, subscope);
  }

  private async object(input: Obj, scopeId: string, subscope: string | undefined): Promise<Obj> {
    const obj: Obj = { ...input };
    if (isObj(obj.$namespaces)) {
      for (const [k, v] of Object.entries(obj.$namespaces)) if (typeof v === "string") this.state.namespaces[k] = v;
    }
    const rules = schemaTable.rules;
    // idmaps first (their values may be $imports).
    for (const [field, rule] of Object.entries(rules)) {
      if (rule.mapSubject === undefined || !(field in obj)) continue;
      let v = obj[field];
      if (isObj(v)) {
        const imported = await this.importAt(v);
        if (imported) v = imported.value;
      }
      if (isObj(v)) v = expandIdmap(field, v, rule);
      obj[field] = v;
    }
    if ("type" in obj) obj.type = applyTypeDsl(obj.type);
    if ("secondaryFiles" in obj) obj.secondaryFiles = secondaryFilesDsl(obj.secondaryFiles);

    // This object's scope: its id (or name), or the parent's scope plus the subscope.
    let scope = scopeId;
    for (const ident of ["id", "name"]) {
      const v = obj[ident];
      if (typeof v !== "string") continue;
      const full = scopedId(expandCurie(v, this.state.namespaces), scopeId);
      obj[ident] = full;
      if (!this.state.index.has(full)) this.state.index.set(full, obj);
      scope = full;
      break;
    }
    if (scope === scopeId && subscope !== undefined && typeof obj.id !== "string" && typeof obj.name !== "string") {
      // An embedded process without an id (`run: {class: ...}`) is named after its step.
      scope = `${scopeId}/${subscope}`;
      obj.id = scope;
      this.state.index.set(scope, obj);
    }

    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (key === "$graph") {
        obj[key] = await this.node(v, scope, undefined);
        continue;
      }
      if (key === "id" || key === "name" || key.startsWith("$")) continue;
      if (key === "default") {
        obj[key] = await this.userData(v);
        continue;
      }
      const rule = rules[key];
      if (rule?.link !== undefined && !rule.identifier) {
        if (typeof v === "string") obj[key] = this.link(key, rule, v, scope, obj, key);
        else if (Array.isArray(v)) {
          const list = [...v];
          for (let i = 0; i < list.length; i++) {
            const item = list[i];
            if (typeof item === "string") list[i] = this.link(key, rule, item, scope, list, i);
            else list[i] = await this.node(item, scope, rule.subscope);
          }
          obj[key] = list;
        } else obj[key] = await this.node(v, scope, rule.subscope);
        continue;
      }
      if (key === "location" && typeof v === "string" && !isExpression(v)) {
        obj[key] = resolveUri(v, this.fileUrl);
        continue;
      }
      obj[key] = await this.node(v, scope, rule?.subscope);
    }
    if (Array.isArray(input.$schemas)) {
      obj.$schemas = input.$schemas.map((s) => (typeof s === "string" ? resolveUri(s, this.fileUrl) : s));
    }
    return obj;
  }

  /** A default value: only `$import`/`$include` and File/Directory locations are resolved. */
  private async userData(value: unknown): Promise<unknown> {
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.userData(v)));
    if (!isObj(value)) return value;
    const imported = await this.importAt(value);
    if (imported) return imported.value;
    const out: Obj = {};
    const isFileLike = value.class === "File" || value.class === "Directory";
    for (const [k, v] of Object.entries(value)) {
      if (isFileLike && (k === "location" || k === "path") && typeof v === "string" && !isExpression(v)) {
        out[k] = resolveUri(v, this.fileUrl);
      } else out[k] = await this.userData(v);
    }
    return out;
  }
}

/**
 * Resolve a document (already parsed) found at `url`. Scoped references are checked against every
 * id the document defines; an unknown one is a {@link CwlDocumentError}.
 */
export async function resolveDocument(raw: unknown, url: string): Promise<ResolvedDocument> {
  vocabCache ??= vocabulary();
  const docUrl = stripFragment(url);
  const state: State = { namespaces: {}, index: new Map(), pending: [], vocab: vocabCache };
  const resolver = new Resolver(state, docUrl);
  const root = await resolver.node(raw, docUrl, undefined);
  if (isObj(root) && !("$graph" in root) && typeof root.id !== "string") {
    root.id = docUrl;
    state.index.set(docUrl, root);
  }
  for (const ref of state.pending) {
    const resolved = resolveScoped(ref, state.index);
    (ref.holder as Record<string | number, unknown>)[ref.key] = resolved;
  }
  const schemas = isObj(root) && Array.isArray(root.$schemas) ? (root.$schemas as unknown[]).filter((s): s is string => typeof s === "string") : [];
  return { url: docUrl, root, index: state.index, namespaces: state.namespaces, schemas };
}
