/**
 * Where the values of chosen top-level keys of a JSON object sit in its UTF-8 bytes, found by
 * walking the bytes and checking their syntax without building the values: a reader that never
 * looks inside a value (the leader and a job's body) keeps its bytes instead of an object graph
 * many times their size.
 */

/** A value's bytes: `bytes.subarray(start, end)`. */
export interface ByteSpan {
  /** Offset of the value's first byte. */
  start: number;
  /** Offset just past its last byte. */
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** Escapes a JSON string may hold after a backslash (`u` takes four hex digits). */
const SIMPLE_ESCAPES = new Set([QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function syntaxError(at: number, what: string): SyntaxError {
  return new SyntaxError(`${what} at byte ${at} of the JSON text`);
}

function skipSpace(b: Uint8Array, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The offset past the string starting at `i` (its opening quote). */
function skipString(b: Uint8Array, i: number): number {
  const n = b.length;
  i++;
  for (;;) {
    // The common case, a run of plain characters, in one tight loop. (A quote or backslash byte is
    // never part of a multi-byte UTF-8 character, so bytes can be compared one by one.)
    let c = b[i];
    while (c !== undefined && c !== QUOTE && c !== BACKSLASH && c >= 0x20) c = b[++i];
    if (i >= n) throw syntaxError(i, "Unterminated string");
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = b[i + 1];
      if (e === 0x75) {
        if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) throw syntaxError(i, "Bad \\u escape");
        i += 6;
      } else if (e !== undefined && SIMPLE_ESCAPES.has(e)) {
        i += 2;
      } else {
        throw syntaxError(i, "Bad escape");
      }
      continue;
    }
    throw syntaxError(i, "Control character in string");
  }
}

function skipDigits(b: Uint8Array, i: number): number {
  if (!isDigit(b[i])) throw syntaxError(i, "Expected a digit");
  while (isDigit(b[i])) i++;
  return i;
}

function skipNumber(b: Uint8Array, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else i = skipDigits(b, i);
  if (b[i] === DOT) i = skipDigits(b, i + 1);
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === PLUS || b[i] === MINUS) i++;
    i = skipDigits(b, i);
  }
  return i;
}

function skipLiteral(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) throw syntaxError(i, "Unexpected token");
  return i + word.length;
}

/** The offset past `"key" :` (and the spaces around it) starting at `i`. */
function skipKey(b: Uint8Array, i: number): number {
  i = skipSpace(b, i);
  if (b[i] !== QUOTE) throw syntaxError(i, "Expected a property name");
  i = skipSpace(b, skipString(b, i));
  if (b[i] !== COLON) throw syntaxError(i, "Expected ':'");
  return i + 1;
}

/**
 * The offset past the JSON value starting at `i` (after any spaces), checking its syntax as
 * `JSON.parse` would (the bytes are not checked to be valid UTF-8: decoding replaces a bad
 * sequence, as it does for `JSON.parse` of a decoded buffer). Iterative, so nesting depth costs
 * no stack.
 */
function skipValue(b: Uint8Array, i: number): number {
  const open: number[] = [];
  for (;;) {
    i = skipSpace(b, i);
    const c = b[i];
    let opened = false;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const j = skipSpace(b, i + 1);
      if (b[j] === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i = j + 1;
      } else {
        open.push(c);
        i = c === OPEN_OBJECT ? skipKey(b, i + 1) : i + 1;
        opened = true;
      }
    } else if (c === QUOTE) i = skipString(b, i);
    else if (c === MINUS || isDigit(c)) i = skipNumber(b, i);
    else if (c === 0x74) i = skipLiteral(b, i, "true");
    else if (c === 0x66) i = skipLiteral(b, i, "false");
    else if (c === 0x6e) i = skipLiteral(b, i, "null");
    else throw syntaxError(i, c === undefined ? "Unexpected end" : "Unexpected token");
    if (opened) continue;
    // After a value: close what it ends, or go on to the next element.
    for (;;) {
      if (open.length === 0) return i;
      i = skipSpace(b, i);
      const top = open[open.length - 1];
      const d = b[i];
      if (d === COMMA) {
        i = top === OPEN_OBJECT ? skipKey(b, i + 1) : i + 1;
        break;
      }
      if (d === (top === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        open.pop();
        i++;
        continue;
      }
      throw syntaxError(i, d === undefined ? "Unexpected end" : "Expected ',' or a closing bracket");
    }
  }
}

/**
 * The spans of the values of `keys` in the JSON object `b` (the last one when a key repeats, as
 * `JSON.parse` keeps the last). Throws a `SyntaxError` if `b` is not one JSON value, or if it is
 * not an object (then no key is found).
 */
export function topLevelValueSpans(b: Uint8Array, keys: ReadonlySet<string>): Map<string, ByteSpan> {
  const spans = new Map<string, ByteSpan>();
  let i = skipSpace(b, 0);
  if (b[i] !== OPEN_OBJECT) {
    i = skipSpace(b, skipValue(b, i));
    if (i !== b.length) throw syntaxError(i, "Unexpected data after the JSON value");
    return spans;
  }
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_OBJECT) i++;
  else {
    for (;;) {
      i = skipSpace(b, i);
      if (b[i] !== QUOTE) throw syntaxError(i, "Expected a property name");
      const keyStart = i;
      i = skipString(b, i);
      const key = JSON.parse(Buffer.from(b.buffer, b.byteOffset + keyStart, i - keyStart).toString("utf8")) as string;
      i = skipSpace(b, i);
      if (b[i] !== COLON) throw syntaxError(i, "Expected ':'");
      const start = skipSpace(b, i + 1);
      i = skipValue(b, start);
      if (keys.has(key)) spans.set(key, { start, end: i });
      i = skipSpace(b, i);
      if (b[i] === COMMA) {
        i++;
        continue;
      }
      if (b[i] === CLOSE_OBJECT) {
        i++;
        break;
      }
      throw syntaxError(i, b[i] === undefined ? "Unexpected end" : "Expected ',' or '}'");
    }
  }
  i = skipSpace(b, i);
  if (i !== b.length) throw syntaxError(i, "Unexpected data after the JSON value");
  return spans;
}
