/**
 * Text the CLI shows a person. Job names, file names and error messages often come from input data
 * (a sample name, a file's first line), so every name and message printed to a terminal or a text
 * log goes through {@link escapeControl}: a name like `x\u001b[2J` must not clear the screen.
 */

/**
 * Show the control characters of `text` the way `cat -v` does: ESC as `^[`, BEL as `^G`, DEL as
 * `^?`, a C1 control such as U+009B as `M-^[`. Newlines (and tabs) are kept, so multi-line
 * messages stay multi-line; `singleLine` escapes them too (`^J`, `^I`), for a name that must stay
 * on its line. A carriage return is always escaped: it would let a line print over itself.
 */
export function escapeControl(text: string, options: { singleLine?: boolean } = {}): string {
  // Fast path: most text has no control characters at all.
  if (!/[\u0000-\u001f\u007f-\u009f]/.test(text)) return text;
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if ((ch === "\n" || ch === "\t") && !options.singleLine) out += ch;
    else if (code < 0x20) out += `^${String.fromCharCode(code + 0x40)}`;
    else if (code === 0x7f) out += "^?";
    else if (code >= 0x80 && code <= 0x9f) out += `M-^${String.fromCharCode(code - 0x80 + 0x40)}`;
    else out += ch;
  }
  return out;
}

/** `1 job`, `2 jobs`, `0.5 cores`: the count and the word, plural unless the count is exactly 1. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `1 try left`, `0 tries left`. */
export function triesLeft(count: number): string {
  return `${plural(count, "try", "tries")} left`;
}
