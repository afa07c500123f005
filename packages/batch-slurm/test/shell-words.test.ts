import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellCommand } from "@toil/batch-core";
import { hostileWords } from "@toil/batch-core/testing";
import { plainCommandWords } from "../src/shell-words.js";

describe("plainCommandWords", () => {
  it("splits plain word lists exactly as a shell would", () => {
    for (const line of ["node /opt/w.js 'a b' \"c d\" e", "x", "run --flag=1 ./x.js a=b"]) {
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
      "a \\ b",
      "sh -c 'exit 5; x'",
      "FOO=1 node x.js",
      "a\nb",
      "",
      shellCommand(["node", ...hostileWords("/tmp/c")]),
    ]) {
      expect(plainCommandWords(line), line).toBeNull();
    }
  });
});
