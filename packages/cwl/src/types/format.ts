/**
 * File format checking: a File's `format` must be the parameter's format, or a subclass or an
 * equivalent class of it in the ontologies the document lists in `$schemas` (RDF/XML such as
 * EDAM.owl, or Turtle). Only the two relations format checking needs are read:
 * `rdfs:subClassOf` and `owl:equivalentClass` between IRIs.
 */
import { fetchText } from "../load/fetch.js";

const SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf";
const EQUIVALENT = "http://www.w3.org/2002/07/owl#equivalentClass";

/** Class relations read from ontologies. */
export class Ontology {
  private readonly parents = new Map<string, Set<string>>();
  private readonly equivalents = new Map<string, Set<string>>();

  private add(map: Map<string, Set<string>>, a: string, b: string): void {
    let s = map.get(a);
    if (!s) map.set(a, (s = new Set()));
    s.add(b);
  }

  /** Record one triple (other predicates are ignored). */
  addTriple(subject: string, predicate: string, object: string): void {
    if (predicate === SUBCLASS) this.add(this.parents, subject, object);
    else if (predicate === EQUIVALENT) {
      this.add(this.equivalents, subject, object);
      this.add(this.equivalents, object, subject);
    }
  }

  /** Whether `format` is `cls`, or reaches it through subclass and equivalence relations. */
  isSubclassOf(format: string, cls: string, visited = new Set<string>()): boolean {
    if (format === cls) return true;
    if (visited.has(format)) return false;
    visited.add(format);
    for (const p of this.parents.get(format) ?? []) if (this.isSubclassOf(p, cls, visited)) return true;
    for (const e of this.equivalents.get(format) ?? []) if (this.isSubclassOf(e, cls, visited)) return true;
    return false;
  }

  /** Read an RDF/XML document: `<owl:Class rdf:about=...>` blocks and their subClassOf/equivalentClass resources. */
  readRdfXml(text: string): void {
    const entities = new Map<string, string>();
    for (const m of text.matchAll(/<!ENTITY\s+(\S+)\s+"([^"]*)"\s*>/g)) entities.set(m[1]!, m[2]!);
    const expand = (s: string): string => s.replace(/&([\w.-]+);/g, (all, name: string) => entities.get(name) ?? all);
    const base = /xml:base="([^"]*)"/.exec(text)?.[1];
    const iri = (s: string): string => {
      const e = expand(s);
      if (/^[a-z][a-z0-9+.-]*:/i.test(e) || base === undefined) return e;
      try {
        return new URL(e, base).href;
      } catch {
        return e;
      }
    };
    for (const block of text.matchAll(/<owl:Class\s+rdf:about="([^"]+)"\s*>([\s\S]*?)<\/owl:Class>/g)) {
      const subject = iri(block[1]!);
      for (const rel of block[2]!.matchAll(/<(rdfs:subClassOf|owl:equivalentClass)\s+rdf:resource="([^"]+)"\s*\/>/g)) {
        this.addTriple(subject, rel[1] === "rdfs:subClassOf" ? SUBCLASS : EQUIVALENT, iri(rel[2]!));
      }
    }
  }

  /** Read simple Turtle: `@prefix` lines and `subject predicate object .` statements with IRIs or prefixed names. */
  readTurtle(text: string): void {
    const prefixes = new Map<string, string>([["rdfs", "http://www.w3.org/2000/01/rdf-schema#"], ["owl", "http://www.w3.org/2002/07/owl#"]]);
    for (const m of text.matchAll(/@prefix\s+([\w-]*):\s*<([^>]*)>\s*\./g)) prefixes.set(m[1]!, m[2]!);
    const term = (t: string): string | undefined => {
      if (t.startsWith("<") && t.endsWith(">")) return t.slice(1, -1);
      const colon = t.indexOf(":");
      if (colon < 0) return t === "a" ? "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" : undefined;
      const ns = prefixes.get(t.slice(0, colon));
      return ns === undefined ? undefined : ns + t.slice(colon + 1);
    };
    const body = text.replace(/@prefix[^\n]*\n/g, "").replace(/#[^\n>]*$/gm, "");
    for (const stmt of body.split(/\s\.\s*(?:\n|$)/)) {
      const words = stmt.trim().split(/\s+/);
      if (words.length !== 3) continue;
      const [s, p, o] = words.map((w) => term(w.replace(/\s*\.$/, "")));
      if (s && p && o) this.addTriple(s, p, o);
    }
  }
}

const ontologies = new Map<string, Promise<Ontology>>();

/** The ontology made of the documents at `urls` (cached per list). Unreadable ones are skipped. */
export function loadOntology(urls: readonly string[]): Promise<Ontology> {
  const key = urls.join("\n");
  let p = ontologies.get(key);
  if (!p) {
    p = (async () => {
      const o = new Ontology();
      for (const url of urls) {
        let text: string;
        try {
          text = await fetchText(url);
        } catch {
          continue;
        }
        if (/^\s*(<\?xml|<rdf:RDF)/.test(text)) o.readRdfXml(text);
        else o.readTurtle(text);
      }
      return o;
    })();
    ontologies.set(key, p);
  }
  return p;
}
