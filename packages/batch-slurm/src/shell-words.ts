import { SlurmArgsError } from "./errors.js";

/**
 * Splits a command-line string into words the way a POSIX shell would (quotes and backslashes,
 * no expansion). Used for `--slurmArgs` / `TOIL_SLURM_ARGS`.
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
      if (end < 0) throw new SlurmArgsError(`Unterminated single quote in Slurm arguments: ${text}`);
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new SlurmArgsError(`Unterminated double quote in Slurm arguments: ${text}`);
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
      if (i + 1 >= n) throw new SlurmArgsError(`Slurm arguments end with a lone backslash: ${text}`);
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

/** Quotes a string for a POSIX shell (single quotes). */
export function shellQuote(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Always single-quotes a string for a POSIX shell. */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The words of a command line that a POSIX shell would run without expanding anything: only
 * plain characters, spaces and quotes (no `$`, backquote, backslash, `;`, `|`, `&`, redirections,
 * globs, `~`, `#`, newlines). Such a line means exactly these words, so it can be executed without
 * a shell. Returns `null` for anything else (it must run through `sh -c`).
 */
export function plainCommandWords(command: string): string[] | null {
  if (!/^[A-Za-z0-9_@%+=:,./\- '"]*$/.test(command)) return null;
  let words: string[];
  try {
    words = splitShellWords(command);
  } catch {
    return null;
  }
  if (words.length === 0) return null;
  // A leading NAME=value word is a variable assignment for the shell.
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) return null;
  return words;
}
