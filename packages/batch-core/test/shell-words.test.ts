import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BatchCommandError, plainCommandWords, shellCommand, splitShellWords } from "../src/index.js";
import { hostileWords } from "../src/testing/index.js";

describe("plainCommandWords", () => {
  it("splits plain word lists exactly as a shell would", () => {
    for (const line of ["node /opt/w.js 'a b' \"c d\" e", "x", "run --flag=1 ./x.js a=b", "sh -c 'exit 5; x'", "a\t''\tb'c'\"d\"", "a \\ b", "'it'\\''s'"]) {
      const words = plainCommandWords(line);
      const sh = spawnSync("/bin/sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" }).stdout.split("\0").slice(0, -1);
      expect(words).toEqual(sh);
    }
  });

  it("leaves anything a shell would expand or interpret to sh -c", () => {
    for (const line of [
      "echo $HOME",
      "a; b",
      "a | b",
      "a > f",
      "echo `x`",
      "echo $(x)",
      "echo *",
      "echo ~",
      "FOO=1 node x.js",
      "a\nb",
      "",
      "echo \"$x\"",
      "echo 'open",
    ]) {
      expect(plainCommandWords(line), line).toBeNull();
    }
  });

  it("turns shellCommand's quoting of any argument array back into that array", () => {
    const argv = ["node", ...hostileWords("/tmp/c")];
    expect(plainCommandWords(shellCommand(argv))).toEqual(argv);
  });
});

describe("splitShellWords", () => {
  it("splits like a POSIX shell, without expanding anything", () => {
    expect(splitShellWords(`a 'b c' "d \\"e\\"" f\\ g  $HOME`)).toEqual(["a", "b c", 'd "e"', "f g", "$HOME"]);
    expect(splitShellWords("")).toEqual([]);
  });

  it("refuses an unterminated quote or a lone trailing backslash with a BatchCommandError saying how to fix it", () => {
    expect(() => splitShellWords(`--comment "x`)).toThrow(BatchCommandError);
    expect(() => splitShellWords(`--comment "x`)).toThrow(/double quote.*close it/);
    expect(() => splitShellWords(`'x`)).toThrow(/single quote/);
    expect(() => splitShellWords("a \\")).toThrow(/lone backslash/);
  });
});
