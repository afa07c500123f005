/**
 * The CWL v1.2 schema as the loader uses it: record types with their fields, enums, and the
 * per-field-name link rules. Generated from the schema-salad documents of the specification by
 * `scripts/generate-schema.ts`.
 */
import table from "../schema/cwl-v1.2.json" with { type: "json" };

/** A field type: a type name, a union (list), an array, an inline enum or a map. */
export type SchemaType = string | SchemaType[] | { array: SchemaType } | { enum: string[] } | { map: SchemaType };

/** One field of a record type. */
interface SchemaField {
  type: SchemaType;
  default?: unknown;
}

/** A concrete record type. */
export interface SchemaRecord {
  fields: Record<string, SchemaField>;
  /** The value its `class` field must hold, if it has one. */
  classSymbol?: string;
  /** The value its `type` field must hold (record, enum and array schemas). */
  typeSymbol?: string;
  /** A type a document may be (CommandLineTool, Workflow, ExpressionTool, Operation). */
  documentRoot?: boolean;
}

/** How schema-salad treats a field name before validation. */
export interface LinkRule {
  mapSubject?: string;
  mapPredicate?: string;
  typeDSL?: boolean;
  secondaryFilesDSL?: boolean;
  identifier?: boolean;
  link?: "@id" | "@vocab";
  refScope?: number;
  noLinkCheck?: boolean;
  identity?: boolean;
  subscope?: string;
}

/** The compiled schema. */
export const schemaTable = table as unknown as {
  records: Record<string, SchemaRecord>;
  enums: Record<string, string[]>;
  rules: Record<string, LinkRule>;
};
