import { describe, expect, test } from "vitest";
import { escapeControl, plural, triesLeft } from "../src/text.js";

describe("escapeControl shows control characters as cat -v does", () => {
  test("escape sequences that would clear the screen and retitle the terminal", () => {
    expect(escapeControl("x\u001b[2J\u001b]0;pwned\u0007y")).toBe("x^[[2J^[]0;pwned^Gy");
  });
  test("DEL, C1 controls and carriage returns; newlines and tabs kept unless singleLine", () => {
    expect(escapeControl("a\u007fb\u009bc\rd")).toBe("a^?bM-^[c^Md");
    expect(escapeControl("line 1\n\tline 2")).toBe("line 1\n\tline 2");
    expect(escapeControl("line 1\n\tline 2", { singleLine: true })).toBe("line 1^J^Iline 2");
  });
  test("ordinary text, Unicode included, is unchanged", () => {
    expect(escapeControl("sample ü 样本 █░ …")).toBe("sample ü 样本 █░ …");
  });
});

test("plurals", () => {
  expect(plural(1, "job")).toBe("1 job");
  expect(plural(0, "job")).toBe("0 jobs");
  expect(plural(2, "job")).toBe("2 jobs");
  expect(triesLeft(1)).toBe("1 try left");
  expect(triesLeft(3)).toBe("3 tries left");
});
