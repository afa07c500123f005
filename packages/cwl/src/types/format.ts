/**
 * File format checking: a File's `format` must be the parameter's format, or a subclass or an
 * equivalent class of it in the ontologies the document lists in `$schemas` (RDF/XML such as
 * EDAM.owl, read with rdfxml-streaming-parser; Turtle and N-Triples, read with n3). Of the triples,
 * the two relations format checking needs are kept: `rdfs:subClassOf` and `owl:equivalentClass`
 * between IRIs.
 */
import { Parser as N3Parser, type Quad } from "n3";
import { RdfXmlParser } from "rdfxml-streaming-parser";
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

  /** Read the triples of an RDF/XML document (EDAM.owl, for one) found at `baseIRI`. */
  readRdfXml(text: string, baseIRI: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const parser = new RdfXmlParser({ baseIRI });
      parser.on("data", (q: Quad) => this.addQuad(q));
      parser.on("error", reject);
      parser.on("end", () => resolve());
      parser.end(text);
    });
  }

  /** Read the triples of a Turtle (or N-Triples) document found at `baseIRI`. */
  readTurtle(text: string, baseIRI: string): void {
    for (const q of new N3Parser({ baseIRI }).parse(text)) this.addQuad(q);
  }

  private addQuad(q: Quad): void {
    if (q.subject.termType === "NamedNode" && q.object.termType === "NamedNode") this.addTriple(q.subject.value, q.predicate.value, q.object.value);
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
        try {
          if (/^\s*(<\?xml|<!DOCTYPE|<rdf:RDF)/.test(text)) await o.readRdfXml(text, url);
          else o.readTurtle(text, url);
        } catch {
          // An ontology that cannot be parsed adds nothing (as one that cannot be read).
        }
      }
      return o;
    })();
    ontologies.set(key, p);
  }
  return p;
}
