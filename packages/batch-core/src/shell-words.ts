/**
 * Shell words, in one place for every batch system: quoting a word for a POSIX shell, splitting a
 * command line the way a shell would, and telling a plain word list (runnable without a shell)
 * from a line that needs `sh -c`.
 */
import { BatchCommandError } from "./errors.js";

/** Characters a shell never interprets in a word: such a word needs no quotes. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Splits a command-line string into words the way a POSIX shell would (quotes and backslashes,
 * no expansion), e.g. for options such as `--slurmArgs` that carry a command line's worth of
 * arguments. An unterminated quote or a trailing lone backslash throws {@link BatchCommandError}.
 *
 * @example splitShellWords(`--comment "two words" -p long`) // ["--comment", "two words", "-p", "long"]
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new BatchCommandError(`Unterminated single quote in ${JSON.stringify(text)}; close it or quote the quote.`);
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new BatchCommandError(`Unterminated double quote in ${JSON.stringify(text)}; close it or escape it with a backslash.`);
        const d = text[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && '"\\$`\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== "\n") word += text[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
    } else if (c === "\\") {
      if (i + 1 >= n) throw new BatchCommandError(`${JSON.stringify(text)} ends with a lone backslash; remove it or escape it (\\\\).`);
      if (text[i + 1] !== "\n") word += text[i + 1];
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * Quotes one word for a POSIX shell so that the shell turns it back into exactly this word,
 * whatever it contains (`;`, `$(...)`, backticks, quotes, newlines, globs, a leading `-` or `~`).
 * Plain words are left as they are; anything else is single-quoted.
 *
 * @example shellQuote("it's $(here)") // `'it'\''s $(here)'`
 */
export function shellQuote(word: string): string {
  return word !== "" && PLAIN_WORD.test(word) ? word : singleQuote(word);
}

/** Always single-quotes a string for a POSIX shell (for words that must never be read as an assignment or option). */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Characters a shell never interprets outside quotes. */
const PLAIN_CHAR = /^[A-Za-z0-9_./=:@%+,-]$/;

/**
 * The words of a command line that a POSIX shell would run without expanding or interpreting
 * anything: plain words, 'single-quoted' text of any kind, "double-quoted" text without `$`,
 * backquote, backslash or `!`, and backslash-escaped characters, separated by spaces or tabs. Such a line means exactly these words,
 * so it can be executed without a shell. Returns `null` for anything else (variables, pipes,
 * redirections, globs, `~`, `#`, a leading `NAME=value`, ...): that line must run through `sh -c`.
 *
 * @example plainCommandWords(`sh -c 'kill $$'`) // ["sh", "-c", "kill $$"]
 * @example plainCommandWords("echo $HOME")      // null
 */
export function plainCommandWords(command: string): string[] | null {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return null;
      word += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      const end = command.indexOf('"', i + 1);
      if (end < 0) return null;
      const quoted = command.slice(i + 1, end);
      if (/[$`\\!]/.test(quoted)) return null;
      word += quoted;
      i = end;
      inWord = true;
    } else if (c === "\\" && i + 1 < command.length && command[i + 1] !== "\n") {
      // An escaped character is itself (how shellQuote writes a quote inside single quotes).
      word += command[++i];
      inWord = true;
    } else if (PLAIN_CHAR.test(c)) {
      word += c;
      inWord = true;
    } else {
      return null;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) return null;
  // A leading NAME=value word is a variable assignment for the shell.
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) return null;
  return words;
}
