/**
 * The normalized form of a CWL process that the rest of the package (and every job) works on:
 * plain JSON, ids shortened to local names (`input`, `step1/out`), type names from
 * `SchemaDefRequirement` inlined, idmaps and DSLs already expanded. A job stores its process in
 * this form, so a worker never parses CWL again.
 */

/** A primitive CWL type (plus `Any`). */
export type CwlPrimitiveType = "null" | "boolean" | "int" | "long" | "float" | "double" | "string" | "File" | "Directory" | "Any";

/** A CWL type: a primitive, an array, record or enum schema, or a union (a list). */
export type CwlType = CwlPrimitiveType | CwlArrayType | CwlRecordType | CwlEnumType | CwlType[];

/** `{type: array, items: ...}`. */
export interface CwlArrayType {
  type: "array";
  items: CwlType;
  inputBinding?: CommandLineBinding;
}

/** `{type: record, fields: [...]}`. */
export interface CwlRecordType {
  type: "record";
  name?: string;
  fields: CwlRecordField[];
  inputBinding?: CommandLineBinding;
}

/** A field of a record type. */
export interface CwlRecordField extends ParameterCommon {
  name: string;
  type: CwlType;
  inputBinding?: CommandLineBinding;
  outputBinding?: CommandOutputBinding;
}

/** `{type: enum, symbols: [...]}`. */
export interface CwlEnumType {
  type: "enum";
  name?: string;
  symbols: string[];
  inputBinding?: CommandLineBinding;
}

/** A secondary file pattern (`.bai`, `^.bai`, or an expression). */
export interface SecondaryFileSchema {
  pattern: string;
  /** `true`/`false`, an expression, or null (the default for the context). */
  required?: boolean | string | null;
}

/** How an input (or an argument) becomes part of the command line. */
export interface CommandLineBinding {
  position?: number | string;
  prefix?: string;
  separate?: boolean;
  itemSeparator?: string;
  valueFrom?: string;
  shellQuote?: boolean;
  /** Deprecated place of `loadContents` (v1.0). */
  loadContents?: boolean;
}

/** How an output is collected from the tool's output directory. */
export interface CommandOutputBinding {
  glob?: string | string[];
  loadContents?: boolean;
  loadListing?: LoadListing;
  outputEval?: string;
}

/** How much of a Directory's listing is loaded for expressions. */
export type LoadListing = "no_listing" | "shallow_listing" | "deep_listing";

/** Fields shared by parameters and record fields. */
export interface ParameterCommon {
  label?: string;
  doc?: string | string[];
  secondaryFiles?: SecondaryFileSchema[];
  format?: string | string[];
  loadContents?: boolean;
  loadListing?: LoadListing;
  streamable?: boolean;
}

/** An input parameter of a process. */
export interface InputParameter extends ParameterCommon {
  id: string;
  type: CwlType;
  /** Present when the document gives a default (which may be null). */
  default?: unknown;
  inputBinding?: CommandLineBinding;
}

/** An output parameter of a process. */
export interface OutputParameter extends ParameterCommon {
  id: string;
  type: CwlType;
  outputBinding?: CommandOutputBinding;
  /** Workflow outputs: where the value comes from (`step/out` or a workflow input). */
  outputSource?: string[];
  /** Whether `outputSource` was written as a list. */
  outputSourceIsList?: boolean;
  linkMerge?: "merge_nested" | "merge_flattened";
  pickValue?: "first_non_null" | "the_only_non_null" | "all_non_null";
}

/** A requirement or hint: its `class` and fields as written (normalized). */
export interface Requirement {
  class: string;
  [field: string]: unknown;
}

/** What every process has. */
export interface ProcessCommon {
  /** The process's full id (document URL, with a fragment inside a `$graph` or for embedded processes). */
  id: string;
  cwlVersion: string;
  label?: string;
  doc?: string | string[];
  inputs: InputParameter[];
  outputs: OutputParameter[];
  requirements: Requirement[];
  hints: Requirement[];
  /** `$namespaces` in effect (prefix → IRI). */
  namespaces: Record<string, string>;
  /** `$schemas`: ontologies for format checking. */
  schemas: string[];
  intent?: string[];
}

/** A CommandLineTool. */
export interface CommandLineTool extends ProcessCommon {
  class: "CommandLineTool";
  baseCommand: string[];
  arguments: (string | CommandLineBinding)[];
  stdin?: string;
  stdout?: string;
  stderr?: string;
  successCodes: number[];
  temporaryFailCodes: number[];
  permanentFailCodes: number[];
}

/** An ExpressionTool. */
export interface ExpressionTool extends ProcessCommon {
  class: "ExpressionTool";
  expression: string;
}

/** An Operation (abstract: cannot run). */
export interface Operation extends ProcessCommon {
  class: "Operation";
}

/** A Workflow. */
export interface Workflow extends ProcessCommon {
  class: "Workflow";
  steps: WorkflowStep[];
}

/** A step of a workflow. */
export interface WorkflowStep {
  /** Local name of the step. */
  id: string;
  label?: string;
  doc?: string | string[];
  in: WorkflowStepInput[];
  /** Local names of the outputs the step exposes. */
  out: string[];
  run: Process;
  requirements: Requirement[];
  hints: Requirement[];
  scatter?: string[];
  scatterMethod?: "dotproduct" | "nested_crossproduct" | "flat_crossproduct";
  when?: string;
}

/** An input of a workflow step. */
export interface WorkflowStepInput {
  id: string;
  /** Local names of the sources (`input`, `step/out`). */
  source: string[];
  /** Whether `source` was written as a list. */
  sourceIsList: boolean;
  linkMerge?: "merge_nested" | "merge_flattened";
  pickValue?: "first_non_null" | "the_only_non_null" | "all_non_null";
  /** Present when the step gives a default. */
  default?: unknown;
  valueFrom?: string;
  loadContents?: boolean;
  loadListing?: LoadListing;
}

/** Any CWL process. */
export type Process = CommandLineTool | ExpressionTool | Workflow | Operation;

/** A File value. */
export interface CwlFile {
  class: "File";
  location?: string;
  path?: string;
  basename?: string;
  dirname?: string;
  nameroot?: string;
  nameext?: string;
  checksum?: string;
  size?: number;
  secondaryFiles?: (CwlFile | CwlDirectory)[];
  format?: string;
  contents?: string;
  [key: string]: unknown;
}

/** A Directory value. */
export interface CwlDirectory {
  class: "Directory";
  location?: string;
  path?: string;
  basename?: string;
  listing?: (CwlFile | CwlDirectory)[];
  [key: string]: unknown;
}

/** Find a requirement (requirements first, then hints) by class. */
export function findRequirement(p: { requirements: Requirement[]; hints: Requirement[] }, cls: string): { req: Requirement; hint: boolean } | undefined {
  for (let i = p.requirements.length - 1; i >= 0; i--) if (p.requirements[i]!.class === cls) return { req: p.requirements[i]!, hint: false };
  for (let i = p.hints.length - 1; i >= 0; i--) if (p.hints[i]!.class === cls) return { req: p.hints[i]!, hint: true };
  return undefined;
}
