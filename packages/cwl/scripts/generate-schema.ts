/**
 * Compiles the CWL v1.2 schema (schema-salad documents) into the compact table the loader runs
 * on: `src/schema/cwl-v1.2.json`.
 *
 *   pnpm --filter @toil/cwl run generate:schema [path/to/CommonWorkflowLanguage.yml]
 *
 * The default input is the conformance suite's copy of the schema (`../shared/cwl/v1.2`, next to
 * the repository). The table holds, per record type, its fields and their types (inheritance and
 * `specialize` applied, abstract types expanded to their concrete subtypes), the enums, and the
 * per-field-name link rules (idmaps, type DSL, secondaryFiles DSL, identifiers, links with their
 * scope, vocabulary terms) that schema-salad applies before validation.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

type Raw = Record<string, unknown>;

/** A type as the loader sees it. */
type TypeRef = string | TypeRef[] | { array: TypeRef } | { enum: string[] } | { map: TypeRef };

interface FieldOut {
  type: TypeRef;
  /** The predicate's default value when the field is missing (schema-salad `default`). */
  default?: unknown;
}

interface RecordOut {
  fields: Record<string, FieldOut>;
  /** The enum symbol the `class` field must hold, when the record has one. */
  classSymbol?: string;
  /** The symbol the `type` field must hold (record, enum, array schemas). */
  typeSymbol?: string;
  documentRoot?: boolean;
}

interface LinkRule {
  mapSubject?: string;
  mapPredicate?: string;
  typeDSL?: boolean;
  secondaryFilesDSL?: boolean;
  identifier?: boolean;
  link?: "@id" | "@vocab";
  refScope?: number;
  noLinkCheck?: boolean;
  /** Values are ids in the scope of the enclosing object (like `id`), not plain links. */
  identity?: boolean;
  /** An embedded object without an id gets `<parent id>/<subscope>` as its scope. */
  subscope?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const input = path.resolve(process.argv[2] ?? path.join(here, "../../../../shared/cwl/v1.2/CommonWorkflowLanguage.yml"));
const output = path.join(here, "../src/schema/cwl-v1.2.json");

const short = (name: string): string => {
  const hash = name.lastIndexOf("#");
  const tail = hash >= 0 ? name.slice(hash + 1) : name;
  const colon = tail.indexOf(":");
  return colon >= 0 && !tail.includes("/") ? tail.slice(colon + 1) : tail;
};

/** Every named type of the schema, by short name, after `$import`s are followed. */
const named = new Map<string, Raw>();

function loadGraph(file: string): void {
  const doc = yaml.load(readFileSync(file, "utf8")) as Raw;
  const graph = (doc.$graph ?? []) as Raw[];
  for (const entry of graph) {
    if (typeof entry.$import === "string") {
      loadGraph(path.resolve(path.dirname(file), entry.$import));
      continue;
    }
    if (entry.type === "documentation" || typeof entry.name !== "string") continue;
    const name = short(entry.name);
    if (named.has(name)) throw new Error(`Two schema types are named ${name}`);
    named.set(name, entry);
  }
}

loadGraph(input);

/** Field list of a record as written (list or idmap). */
function rawFields(rec: Raw): Raw[] {
  const f = rec.fields;
  if (f === undefined || f === null) return [];
  if (Array.isArray(f)) return f as Raw[];
  return Object.entries(f as Raw).map(([name, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? { name, ...(v as Raw) } : { name, type: v },
  );
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]);

/** Parents of each record (short names). */
const parents = new Map<string, string[]>();
for (const [name, t] of named) if (t.type === "record") parents.set(name, asList(t.extends).map(short));

function isSubtype(name: string, ancestor: string): boolean {
  if (name === ancestor) return true;
  return (parents.get(name) ?? []).some((p) => isSubtype(p, ancestor));
}

/** Concrete records that are `name` or extend it. */
function concreteSubtypes(name: string): string[] {
  const out: string[] = [];
  for (const [n, t] of named) if (t.type === "record" && t.abstract !== true && isSubtype(n, name)) out.push(n);
  return out;
}

/** Type DSL of the schema itself (`string?`, `X[]`). */
function dsl(t: unknown): unknown {
  if (typeof t !== "string") return t;
  if (t.endsWith("?")) return ["null", dsl(t.slice(0, -1))];
  if (t.endsWith("[]")) return { type: "array", items: dsl(t.slice(0, -2)) };
  return t;
}

const linkRules = new Map<string, LinkRule>();

function noteRule(field: string, rule: LinkRule): void {
  const prev = linkRules.get(field) ?? {};
  for (const [k, v] of Object.entries(rule) as [keyof LinkRule, unknown][]) {
    if (v === undefined) continue;
    const old = prev[k];
    if (old !== undefined && old !== v) {
      // schema-salad keys these rules by field name; a conflict would make its loader ambiguous too.
      throw new Error(`Field name '${field}' has conflicting ${k}: ${String(old)} vs ${String(v)}`);
    }
    (prev as Record<string, unknown>)[k] = v;
  }
  linkRules.set(field, prev);
}

function notePredicate(field: string, pred: unknown): void {
  if (pred === undefined || pred === null) return;
  if (typeof pred === "string") {
    if (pred === "@id") noteRule(field, { identifier: true });
    return;
  }
  const p = pred as Raw;
  const rule: LinkRule = {};
  if (p._id === "@id") rule.identifier = true;
  if (p._type === "@id" || p._type === "@vocab") rule.link = p._type;
  if (typeof p.refScope === "number") rule.refScope = p.refScope;
  if (typeof p.mapSubject === "string") rule.mapSubject = p.mapSubject;
  if (typeof p.mapPredicate === "string") rule.mapPredicate = p.mapPredicate;
  if (p.typeDSL === true) rule.typeDSL = true;
  if (p.secondaryFilesDSL === true) rule.secondaryFilesDSL = true;
  if (p.noLinkCheck === true) rule.noLinkCheck = true;
  if (p.identity === true) rule.identity = true;
  if (typeof p.subscope === "string") rule.subscope = p.subscope;
  if (p._id === "@type") rule.link = "@vocab";
  noteRule(field, rule);
}

/** Convert a schema type expression, applying `specialize` substitutions. */
function convert(t: unknown, subst: Map<string, string>): TypeRef {
  const d = dsl(t);
  if (Array.isArray(d)) return d.map((x) => convert(x, subst)).flat() as TypeRef[];
  if (typeof d === "string") {
    let name = short(d);
    name = subst.get(name) ?? name;
    if (name === "Expression") return "string";
    const def = named.get(name);
    if (def?.type === "record" && def.abstract === true) {
      const subs = concreteSubtypes(name).map((s) => subst.get(s) ?? s);
      return [...new Set(subs)];
    }
    if (def?.type === "enum" && name !== "Any") return name;
    return name;
  }
  const o = d as Raw;
  if (o.type === "array") return { array: convert(o.items, subst) };
  if (o.type === "enum") return { enum: asList(o.symbols).map(short) };
  if (o.type === "record") throw new Error("Anonymous records are not expected in the CWL schema");
  if (o.type === "map") return { map: convert(o.values, subst) };
  return convert(o.type, subst);
}

/** Fields of a record with inheritance and specialization, in declaration order (parents first). */
function fieldsOf(name: string, subst: Map<string, string>): Map<string, { type: unknown; subst: Map<string, string>; default?: unknown; predicate?: unknown }> {
  const rec = named.get(name);
  if (!rec || rec.type !== "record") throw new Error(`Unknown record ${name}`);
  const own = new Map(subst);
  for (const s of (rec.specialize ?? []) as Raw[]) {
    const from = short(String(s.specializeFrom));
    const to = short(String(s.specializeTo));
    // An outer specialization wins over an inner one for the same name.
    if (!own.has(from) || own.get(from) === from) own.set(from, subst.get(to) ?? to);
  }
  const out = new Map<string, { type: unknown; subst: Map<string, string>; default?: unknown; predicate?: unknown }>();
  for (const p of parents.get(name) ?? []) for (const [k, v] of fieldsOf(p, own)) out.set(k, v);
  for (const f of rawFields(rec)) {
    out.set(String(f.name), { type: f.type, subst: own, default: f.default, predicate: f.jsonldPredicate });
  }
  return out;
}

const records: Record<string, RecordOut> = {};
const enums: Record<string, string[]> = {};

for (const [name, t] of named) {
  if (t.type === "enum") {
    let symbols = asList(t.symbols).map(short);
    for (const p of asList(t.extends).map(short)) symbols = [...asList(named.get(p)?.symbols).map(short), ...symbols];
    enums[name] = symbols;
    continue;
  }
  if (t.type !== "record") continue;
  for (const f of rawFields(t)) notePredicate(String(f.name), f.jsonldPredicate);
  if (t.abstract === true) continue;
  const out: RecordOut = { fields: {} };
  if (t.documentRoot === true) out.documentRoot = true;
  for (const [fname, f] of fieldsOf(name, new Map())) {
    const type = convert(f.type, f.subst);
    const field: FieldOut = { type };
    if (f.default !== undefined) field.default = f.default;
    out.fields[fname] = field;
    const discriminator = (fieldName: string): string | undefined => {
      if (f === undefined || fname !== fieldName) return undefined;
      const raw = dsl(f.type);
      const pick = (x: unknown): string | undefined => {
        if (typeof x === "string") {
          const def = named.get(short(x));
          if (def?.type === "enum" && asList(def.symbols).length === 1) return short(asList(def.symbols)[0]!);
          return undefined;
        }
        if (Array.isArray(x)) return x.length === 1 ? pick(x[0]) : undefined;
        const o = x as Raw;
        if (o?.type === "enum" && asList(o.symbols).length === 1) return short(asList(o.symbols)[0]!);
        return undefined;
      };
      return pick(raw);
    };
    out.classSymbol ??= discriminator("class");
    out.typeSymbol ??= discriminator("type");
  }
  records[name] = out;
}

const rules: Record<string, LinkRule> = Object.fromEntries([...linkRules].sort(([a], [b]) => a.localeCompare(b)));
const table = {
  $comment:
    "Generated by scripts/generate-schema.ts from the CWL v1.2 schema (Apache-2.0, (c) the Common Workflow Language contributors). Do not edit.",
  records,
  enums,
  rules,
};
writeFileSync(output, `${JSON.stringify(table, null, 1)}\n`);
console.log(`Wrote ${path.relative(process.cwd(), output)}: ${Object.keys(records).length} records, ${Object.keys(enums).length} enums, ${Object.keys(rules).length} field rules`);
