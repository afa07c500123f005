import { describe, expect, it } from "vitest";
import { parsePartitionTimeLimit, parseSlurmTime, SlurmTimeFormatError } from "../src/index.js";

describe("parseSlurmTime", () => {
  it.each([
    ["5", 300],
    ["120", 7200],
    ["5:30", 330],
    ["0:45", 45],
    ["1:30:00", 5400],
    ["3-0", 259200],
    ["1-12", 129600],
    ["1-6:30", 109800],
    ["1-02:30:45", 95445],
    ["0-00:00:00", 0],
    ["0", 0],
  ])("reads %s as %d seconds", (text, seconds) => {
    expect(parseSlurmTime(text)).toBe(seconds);
  });

  it.each(["", "abc", "1:2:3:4", "-5", "1-", "5m", "1.5"])("rejects %j with a message naming the formats", (text) => {
    expect(() => parseSlurmTime(text)).toThrow(SlurmTimeFormatError);
    expect(() => parseSlurmTime(text)).toThrow(/D-HH:MM:SS/);
  });

  it("reads sinfo time limits, infinite included", () => {
    expect(parsePartitionTimeLimit("infinite")).toBe(Infinity);
    expect(parsePartitionTimeLimit("UNLIMITED")).toBe(Infinity);
    expect(parsePartitionTimeLimit("1:00:00")).toBe(3600);
    expect(parsePartitionTimeLimit("7-00:00:00")).toBe(604800);
  });
});
