/**
 * Building a CommandLineTool's command line from `baseCommand`, `arguments` and the input bindings
 * (CWL v1.2, "Input binding"): every binding gets a sort key (its position at each level, then the
 * argument index or the parameter name), bindings are sorted (numbers before strings), and each
 * turns its value into words (prefix, separate, itemSeparator, valueFrom, booleans as flags).
 */
import { CwlExpressionError } from "../errors.js";
import { evaluateExpressions, type ExpressionContext, type ExpressionEngine } from "../expr/engine.js";
import { isFileOrDirectory } from "../files.js";
import type { CommandLineBinding, CommandLineTool, CwlRecordField, CwlType } from "../model.js";
import { matchingType } from "../types/check.js";

/** One word of the command line, and whether a shell may see it unquoted (`shellQuote: false`). */
export interface CommandWord {
  /** The word. */
  word: string;
  /** Whether it must be quoted for a shell. */
  shellQuote: boolean;
}

type SortKey = (number | string)[];

interface BoundWords {
  key: SortKey;
  words: CommandWord[];
}

function compareKeys(a: SortKey, b: SortKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === "number" && typeof y === "number") {
      if (x !== y) return x - y;
    } else if (typeof x === "number") return -1;
    else if (typeof y === "number") return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** A number as a command-line word: plain decimals, never exponent notation (`0.00001`, `123000`). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Expand the exponent without rounding beyond what the number holds.
  const [mantissa, expText] = s.toLowerCase().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "");
  const [intPart, fracPart = ""] = digits.split(".") as [string, string?];
  const all = intPart + fracPart;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${all}`;
  else if (point >= all.length) out = all + "0".repeat(point - all.length);
  else out = `${all.slice(0, point)}.${all.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, "");
  if (out.includes(".")) out = out.replace(/0+$/, "").replace(/\.$/, "");
  return (negative ? "-" : "") + out;
}

/** A scalar value as one word. */
function wordOf(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (isFileOrDirectory(v)) return String(v.path ?? v.location ?? "");
  return JSON.stringify(v);
}

/** Inputs to command-line generation. */
export interface CommandLineContext {
  /** The staged input object. */
  inputs: Record<string, unknown>;
  /** The `runtime` object expressions see. */
  runtime: Record<string, unknown>;
  /** The expression engine of the tool. */
  engine: ExpressionEngine;
}

class Binder {
  readonly bound: BoundWords[] = [];
  constructor(private readonly ctx: CommandLineContext) {}

  private evaluate(expr: string, self: unknown): unknown {
    const c: ExpressionContext = { inputs: this.ctx.inputs, self, runtime: this.ctx.runtime };
    return evaluateExpressions(expr, c, this.ctx.engine);
  }

  private position(binding: CommandLineBinding, self: unknown): number {
    const p = binding.position;
    if (p === undefined || p === null) return 0;
    const v = typeof p === "string" ? this.evaluate(p, self) : p;
    if (v === null || v === undefined) return 0;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new CwlExpressionError(`inputBinding.position ${JSON.stringify(p)} evaluated to ${JSON.stringify(v)}, not an integer.`);
    }
    return v;
  }

  private withPrefix(binding: CommandLineBinding, word: string): CommandWord[] {
    const quote = binding.shellQuote !== false;
    if (binding.prefix === undefined) return [{ word, shellQuote: quote }];
    if (binding.separate === false) return [{ word: binding.prefix + word, shellQuote: quote }];
    return [
      { word: binding.prefix, shellQuote: quote },
      { word, shellQuote: quote },
    ];
  }

  /** The words one binding gives its (already valueFrom-evaluated) value. */
  private words(binding: CommandLineBinding, value: unknown, itemsBound: boolean): CommandWord[] {
    const quote = binding.shellQuote !== false;
    const prefixOnly = binding.prefix !== undefined ? [{ word: binding.prefix, shellQuote: quote }] : [];
    if (value === null || value === undefined) return [];
    if (typeof value === "boolean") return value ? prefixOnly : [];
    if (Array.isArray(value)) {
      if (value.length === 0) return [];
      if (binding.itemSeparator !== undefined) return this.withPrefix(binding, value.map(wordOf).join(binding.itemSeparator));
      if (itemsBound) return prefixOnly;
      // Elements are processed by their own rules: nested lists flatten, records add only their
      // fields' bindings (handled as nested bindings), nulls nothing.
      const scalars = (v: unknown): unknown[] =>
        Array.isArray(v) ? v.flatMap(scalars) : v === null || v === undefined || (typeof v === "object" && !isFileOrDirectory(v)) ? [] : [v];
      const items = scalars(value).map((v) => ({ word: wordOf(v), shellQuote: quote }));
      if (binding.prefix !== undefined && binding.separate === false && items.length > 0) {
        items[0] = { word: binding.prefix + items[0]!.word, shellQuote: quote };
        return items;
      }
      return [...prefixOnly, ...items];
    }
    if (typeof value === "object" && !isFileOrDirectory(value)) return prefixOnly;
    return this.withPrefix(binding, wordOf(value));
  }

  /** Bind a value of `type` (and the nested bindings of its array items and record fields). */
  bind(binding: CommandLineBinding | undefined, type: CwlType, value: unknown, keyPrefix: SortKey, name: string | number): void {
    // A missing (null) input adds nothing, and its valueFrom is not evaluated.
    if (value === null || value === undefined) return;
    let key = keyPrefix;
    let bound: unknown = value;
    const member = value === null || value === undefined ? undefined : (matchingType(type, value) ?? type);
    const itemsBinding = member !== undefined && typeof member === "object" && !Array.isArray(member) && member.type === "array" ? member.inputBinding : undefined;
    const typeBinding = member !== undefined && typeof member === "object" && !Array.isArray(member) ? member.inputBinding : undefined;
    const effective = binding ?? (member !== undefined && typeof member === "object" && !Array.isArray(member) && member.type !== "array" ? typeBinding : undefined);
    if (effective !== undefined) {
      key = [...keyPrefix, this.position(effective, value), name];
      if (effective.valueFrom !== undefined) bound = this.evaluate(effective.valueFrom, value);
      const itemsBound = Array.isArray(bound) && itemsBinding !== undefined && effective.valueFrom === undefined;
      this.bound.push({ key, words: this.words(effective, bound, itemsBound) });
      if (effective.valueFrom !== undefined) return;
    }
    if (member === undefined || typeof member !== "object" || Array.isArray(member) || value === null || value === undefined) return;
    if (member.type === "array" && Array.isArray(value)) {
      const items = member.items;
      value.forEach((v, i) => {
        if (itemsBinding !== undefined) this.bind(itemsBinding, items, v, key, i);
        else this.bindNested(items, v, [...key, i]);
      });
    } else if (member.type === "record" && typeof value === "object") {
      this.bindFields(member.fields, value, key);
    }
  }

  /** The bindings of a record value's fields. */
  private bindFields(fields: readonly CwlRecordField[], value: unknown, key: SortKey): void {
    for (const f of fields) this.bind(f.inputBinding, f.type, (value as Record<string, unknown>)[f.name], key, f.name);
  }

  /** Nested bindings inside an array item that has no binding of its own (records in arrays). */
  private bindNested(type: CwlType, value: unknown, key: SortKey): void {
    const member = value === null || value === undefined ? undefined : matchingType(type, value);
    if (member === undefined || typeof member !== "object" || Array.isArray(member)) return;
    if (member.type === "record" && typeof value === "object") {
      this.bindFields(member.fields, value, key);
    }
  }

  argument(arg: string | CommandLineBinding, index: number): void {
    if (typeof arg === "string") {
      const v = this.evaluate(arg, null);
      this.bound.push({ key: [0, index], words: this.words({}, v, false) });
      return;
    }
    const v = arg.valueFrom !== undefined ? this.evaluate(arg.valueFrom, null) : null;
    this.bound.push({ key: [this.position(arg, null), index], words: this.words(arg, v, false) });
  }
}

/** The tool's command line as words (baseCommand first), with the quoting each word allows. */
export function buildCommandLine(tool: CommandLineTool, ctx: CommandLineContext): CommandWord[] {
  const binder = new Binder(ctx);
  tool.arguments.forEach((a, i) => binder.argument(a, i));
  for (const p of tool.inputs) binder.bind(p.inputBinding, p.type, ctx.inputs[p.id], [], p.id);
  const sorted = binder.bound.sort((a, b) => compareKeys(a.key, b.key));
  return [...tool.baseCommand.map((word) => ({ word, shellQuote: true })), ...sorted.flatMap((b) => b.words)];
}

/** Quote a word for `/bin/sh`. */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Join words into one shell command (ShellCommandRequirement): quoted unless `shellQuote: false`. */
export function shellCommand(words: readonly CommandWord[]): string {
  return words.map((w) => (w.shellQuote ? shellQuote(w.word) : w.word)).join(" ");
}
