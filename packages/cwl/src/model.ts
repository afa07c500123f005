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
  /** Always `array`. */
  type: "array";
  /** The type of each item. */
  items: CwlType;
  /** How each item is bound on the command line. */
  inputBinding?: CommandLineBinding;
}

/** `{type: record, fields: [...]}`. */
export interface CwlRecordType {
  /** Always `record`. */
  type: "record";
  /** The record's name (its full id when it comes from a SchemaDefRequirement). */
  name?: string;
  /** Its fields, in order. */
  fields: CwlRecordField[];
  /** How the record is bound on the command line (its fields have their own bindings). */
  inputBinding?: CommandLineBinding;
}

/** A field of a record type. */
export interface CwlRecordField extends ParameterCommon {
  /** The field's short name. */
  name: string;
  /** Its type. */
  type: CwlType;
  /** How it is bound on the command line. */
  inputBinding?: CommandLineBinding;
  /** How it is collected from the output directory (record outputs). */
  outputBinding?: CommandOutputBinding;
}

/** `{type: enum, symbols: [...]}`. */
export interface CwlEnumType {
  /** Always `enum`. */
  type: "enum";
  /** The enum's name, when it has one. */
  name?: string;
  /** The allowed values (short names). */
  symbols: string[];
  /** How a value is bound on the command line. */
  inputBinding?: CommandLineBinding;
}

/** A secondary file pattern (`.bai`, `^.bai`, or an expression). */
export interface SecondaryFileSchema {
  /** The pattern: appended to the primary's name (each leading `^` removes one extension), or an expression. */
  pattern: string;
  /** `true`/`false`, an expression, or null (the default for the context). */
  required?: boolean | string | null;
}

/** How an input (or an argument) becomes part of the command line. */
export interface CommandLineBinding {
  /** Sort key (an integer or an expression); default 0. */
  position?: number | string;
  /** A word (or text glued to the value) before the value. */
  prefix?: string;
  /** Whether prefix and value are separate words (default true). */
  separate?: boolean;
  /** Join an array's items into one word with this separator. */
  itemSeparator?: string;
  /** An expression (or constant) used instead of the input's value. */
  valueFrom?: string;
  /** With ShellCommandRequirement: `false` leaves the words unquoted for the shell. */
  shellQuote?: boolean;
  /** Deprecated place of `loadContents` (v1.0). */
  loadContents?: boolean;
}

/** How an output is collected from the tool's output directory. */
export interface CommandOutputBinding {
  /** Pattern(s) (or expressions) matched in the output directory. */
  glob?: string | string[];
  /** Read each matched file's first 64 KiB into `contents`. */
  loadContents?: boolean;
  /** How much of a matched Directory's listing to load. */
  loadListing?: LoadListing;
  /** An expression computing the output from the matches (`self`). */
  outputEval?: string;
}

/** How much of a Directory's listing is loaded for expressions. */
export type LoadListing = "no_listing" | "shallow_listing" | "deep_listing";

/** Fields shared by parameters and record fields. */
export interface ParameterCommon {
  /** A short human-readable label. */
  label?: string;
  /** Documentation. */
  doc?: string | string[];
  /** Secondary files that go with a File value. */
  secondaryFiles?: SecondaryFileSchema[];
  /** The File format(s) (IRIs, or an expression). */
  format?: string | string[];
  /** Read the File's first 64 KiB into `contents` before the process runs. */
  loadContents?: boolean;
  /** How much of a Directory's listing expressions see. */
  loadListing?: LoadListing;
  /** Whether the file may be a stream (accepted, not used). */
  streamable?: boolean;
}

/** An input parameter of a process. */
export interface InputParameter extends ParameterCommon {
  /** The input's local name. */
  id: string;
  /** Its type. */
  type: CwlType;
  /** Present when the document gives a default (which may be null). */
  default?: unknown;
  /** How it is bound on the command line. */
  inputBinding?: CommandLineBinding;
}

/** An output parameter of a process. */
export interface OutputParameter extends ParameterCommon {
  /** The output's local name. */
  id: string;
  /** Its type. */
  type: CwlType;
  /** How a CommandLineTool collects it. */
  outputBinding?: CommandOutputBinding;
  /** Workflow outputs: where the value comes from (`step/out` or a workflow input). */
  outputSource?: string[];
  /** Whether `outputSource` was written as a list. */
  outputSourceIsList?: boolean;
  /** How several sources are combined. */
  linkMerge?: "merge_nested" | "merge_flattened";
  /** Which of several (possibly null) values is kept. */
  pickValue?: "first_non_null" | "the_only_non_null" | "all_non_null";
}

/** A requirement or hint: its `class` and fields as written (normalized). */
export interface Requirement {
  /** The requirement's class (`ResourceRequirement`, or an extension's full IRI). */
  class: string;
  /** Its other fields. */
  [field: string]: unknown;
}

/** What every process has. */
export interface ProcessCommon {
  /** The process's full id (document URL, with a fragment inside a `$graph` or for embedded processes). */
  id: string;
  /** The CWL version the document is written in. */
  cwlVersion: string;
  /** A short human-readable label. */
  label?: string;
  /** Documentation. */
  doc?: string | string[];
  /** Its inputs. */
  inputs: InputParameter[];
  /** Its outputs. */
  outputs: OutputParameter[];
  /** Requirements (the runner must honour them). */
  requirements: Requirement[];
  /** Hints (honoured when the runner knows them). */
  hints: Requirement[];
  /** `$namespaces` in effect (prefix → IRI). */
  namespaces: Record<string, string>;
  /** `$schemas`: ontologies for format checking. */
  schemas: string[];
  /** Intent IRIs. */
  intent?: string[];
}

/** A CommandLineTool. */
export interface CommandLineTool extends ProcessCommon {
  /** Always `CommandLineTool`. */
  class: "CommandLineTool";
  /** The program and its first fixed arguments. */
  baseCommand: string[];
  /** More arguments: strings (expressions allowed) or bindings. */
  arguments: (string | CommandLineBinding)[];
  /** A file to feed to standard input (an expression, usually). */
  stdin?: string;
  /** The file (in the output directory) standard output goes to. */
  stdout?: string;
  /** The file (in the output directory) standard error goes to. */
  stderr?: string;
  /** Exit codes that mean success (default: 0). */
  successCodes: number[];
  /** Exit codes that mean "try again". */
  temporaryFailCodes: number[];
  /** Exit codes that mean failure for good. */
  permanentFailCodes: number[];
}

/** An ExpressionTool. */
export interface ExpressionTool extends ProcessCommon {
  /** Always `ExpressionTool`. */
  class: "ExpressionTool";
  /** The expression that computes the output object. */
  expression: string;
}

/** An Operation (abstract: cannot run). */
export interface Operation extends ProcessCommon {
  /** Always `Operation`. */
  class: "Operation";
}

/** A Workflow. */
export interface Workflow extends ProcessCommon {
  /** Always `Workflow`. */
  class: "Workflow";
  /** Its steps. */
  steps: WorkflowStep[];
}

/** A step of a workflow. */
export interface WorkflowStep {
  /** Local name of the step. */
  id: string;
  /** A short human-readable label. */
  label?: string;
  /** Documentation. */
  doc?: string | string[];
  /** Its inputs and where their values come from. */
  in: WorkflowStepInput[];
  /** Local names of the outputs the step exposes. */
  out: string[];
  /** The process the step runs. */
  run: Process;
  /** Step-level requirements (inherited by the process, below its own). */
  requirements: Requirement[];
  /** Step-level hints. */
  hints: Requirement[];
  /** Inputs to scatter over. */
  scatter?: string[];
  /** How several scattered inputs combine. */
  scatterMethod?: "dotproduct" | "nested_crossproduct" | "flat_crossproduct";
  /** A condition: the step runs only when it is true. */
  when?: string;
}

/** An input of a workflow step. */
export interface WorkflowStepInput {
  /** Local name of the input (the run process's input it feeds). */
  id: string;
  /** Local names of the sources (`input`, `step/out`). */
  source: string[];
  /** Whether `source` was written as a list. */
  sourceIsList: boolean;
  /** How several sources are combined. */
  linkMerge?: "merge_nested" | "merge_flattened";
  /** Which of several (possibly null) values is kept. */
  pickValue?: "first_non_null" | "the_only_non_null" | "all_non_null";
  /** Present when the step gives a default. */
  default?: unknown;
  /** An expression computing the value (StepInputExpressionRequirement). */
  valueFrom?: string;
  /** Read the File's first 64 KiB into `contents`. */
  loadContents?: boolean;
  /** How much of a Directory's listing to load. */
  loadListing?: LoadListing;
}

/** Any CWL process. */
export type Process = CommandLineTool | ExpressionTool | Workflow | Operation;

/** A File value. */
export interface CwlFile {
  /** Always `File`. */
  class: "File";
  /** Where the file is (an IRI: `file:`, `toilfile:`, `_:` for a literal). */
  location?: string;
  /** Its local path, where a tool runs or after export. */
  path?: string;
  /** Its name. */
  basename?: string;
  /** The directory of `path`. */
  dirname?: string;
  /** `basename` without its last extension. */
  nameroot?: string;
  /** The last extension of `basename` (with its dot). */
  nameext?: string;
  /** `sha1$<hex>`. */
  checksum?: string;
  /** Size in bytes. */
  size?: number;
  /** Files and directories that go with it. */
  secondaryFiles?: (CwlFile | CwlDirectory)[];
  /** Its format (an IRI). */
  format?: string;
  /** Its text (a File literal, or loadContents). */
  contents?: string;
  /** Other fields (kept as given). */
  [key: string]: unknown;
}

/** A Directory value. */
export interface CwlDirectory {
  /** Always `Directory`. */
  class: "Directory";
  /** Where the directory is (an IRI). */
  location?: string;
  /** Its local path, where a tool runs or after export. */
  path?: string;
  /** Its name. */
  basename?: string;
  /** Its entries. */
  listing?: (CwlFile | CwlDirectory)[];
  /** Other fields (kept as given). */
  [key: string]: unknown;
}

/** A requirement that was found: the entry and whether it came from `hints`. */
export interface FoundRequirement {
  /** The requirement. */
  req: Requirement;
  /** True when it is a hint, not a requirement. */
  hint: boolean;
}

/** Find a requirement (requirements first, then hints) by class. */
export function findRequirement(p: { requirements: Requirement[]; hints: Requirement[] }, cls: string): FoundRequirement | undefined {
  for (let i = p.requirements.length - 1; i >= 0; i--) if (p.requirements[i]!.class === cls) return { req: p.requirements[i]!, hint: false };
  for (let i = p.hints.length - 1; i >= 0; i--) if (p.hints[i]!.class === cls) return { req: p.hints[i]!, hint: true };
  return undefined;
}
