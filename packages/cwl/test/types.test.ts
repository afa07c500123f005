import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { typeMismatch, type CwlType } from "../src/index.js";
import { secondaryName } from "../src/tool/secondary.js";
import { Ontology } from "../src/types/format.js";
import { SUITE_DIR, suiteAvailable } from "./helpers.js";

describe("the CWL type system", () => {
  const rec: CwlType = { type: "record", fields: [{ name: "a", type: "int" }, { name: "b", type: ["null", "string"] }] };
  const ok = (t: CwlType, v: unknown): boolean => typeMismatch(t, v, "x") === undefined;

  it("primitives, File/Directory, Any", () => {
    expect(ok("int", 3)).toBe(true);
    expect(ok("int", 3.5)).toBe(false);
    expect(ok("int", 2 ** 31)).toBe(false);
    expect(ok("long", 2 ** 40)).toBe(true);
    expect(ok("float", 3)).toBe(true);
    expect(ok("string", 3)).toBe(false);
    expect(ok("File", { class: "File", location: "x" })).toBe(true);
    expect(ok("File", { class: "Directory" })).toBe(false);
    expect(ok("Any", null)).toBe(false);
    expect(typeMismatch("Any", null, "x", { anyAcceptsNull: true })).toBeUndefined();
  });

  it("records, arrays, enums and unions", () => {
    expect(ok(rec, { a: 1 })).toBe(true);
    expect(ok(rec, { b: "s" })).toBe(false);
    expect(ok({ type: "array", items: rec }, [{ a: 1 }, { a: 2, b: null }])).toBe(true);
    expect(ok({ type: "enum", symbols: ["x", "y"] }, "y")).toBe(true);
    expect(ok({ type: "enum", symbols: ["x", "y"] }, "z")).toBe(false);
    expect(ok(["null", "File", { type: "array", items: "File" }], [{ class: "File" }])).toBe(true);
    expect(typeMismatch(rec, { a: "no" }, "inp")).toMatch(/inp\.a: expected int, got "no"/);
  });
});

describe("secondary file patterns", () => {
  it("append, and remove one extension per caret", () => {
    expect(secondaryName("reads.bam", ".bai")).toBe("reads.bam.bai");
    expect(secondaryName("reads.bam", "^.bai")).toBe("reads.bai");
    expect(secondaryName("a.tar.gz", "^^.idx")).toBe("a.idx");
    expect(secondaryName("noext", "^.x")).toBe("noext.x");
  });
});

describe("format ontologies", () => {
  it("follow subClassOf (RDF/XML) and equivalentClass (Turtle) both ways", async () => {
    const o = new Ontology();
    await o.readRdfXml(`<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY ex "http://example.org/" > ]>
<rdf:RDF xml:base="http://example.org/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="http://example.org/fasta"><rdfs:subClassOf rdf:resource="&ex;sequence"/></owl:Class>
  <owl:Class rdf:about="http://example.org/sequence"><rdfs:subClassOf rdf:resource="text"/></owl:Class>
</rdf:RDF>`, "http://example.org/onto.owl");
    // Turtle's other forms: a predicate list (;) and a relative IRI resolved against the document.
    o.readTurtle("@prefix ex: <http://example.org/> .\n@prefix gx: <http://galaxy/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\ngx:fa owl:equivalentClass ex:fasta ;\n  a owl:Class .\n<tabular> owl:equivalentClass gx:fa .\n", "http://galaxy/onto.ttl");
    expect(o.isSubclassOf("http://example.org/fasta", "http://example.org/text")).toBe(true);
    expect(o.isSubclassOf("http://example.org/fasta", "http://galaxy/fa")).toBe(true);
    expect(o.isSubclassOf("http://galaxy/fa", "http://example.org/sequence")).toBe(true);
    expect(o.isSubclassOf("http://example.org/text", "http://example.org/fasta")).toBe(false);
    expect(o.isSubclassOf("http://galaxy/tabular", "http://example.org/text")).toBe(true);
  });

  it("read the suite's EDAM ontology (RDF/XML)", async () => {
    if (!suiteAvailable()) return;
    const o = new Ontology();
    await o.readRdfXml(readFileSync(path.join(SUITE_DIR, "tests/EDAM.owl"), "utf8"), pathToFileURL(path.join(SUITE_DIR, "tests/EDAM.owl")).href);
    // FASTA (format_1929) is a sequence format (format_1919) is a data format (format_1915).
    expect(o.isSubclassOf("http://edamontology.org/format_1929", "http://edamontology.org/format_1919")).toBe(true);
    expect(o.isSubclassOf("http://edamontology.org/format_1929", "http://edamontology.org/format_1915")).toBe(true);
    expect(o.isSubclassOf("http://edamontology.org/format_1915", "http://edamontology.org/format_1929")).toBe(false);
  });
});
