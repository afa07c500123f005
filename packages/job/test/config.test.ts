import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/index.js";

describe("parseConfig", () => {
  it("names an unknown key and suggests the key it was meant to be", () => {
    expect(() => parseConfig({ jobStore: "./js", retrycount: 1 })).toThrow(ConfigError);
    expect(() => parseConfig({ jobStore: "./js", retrycount: 1 })).toThrow(/unknown option "retrycount"; did you mean "retryCount"\?/);
    expect(() => parseConfig({ jobStore: "./js", setEnv: ["A=1"] })).toThrow(/did you mean "environment" \(the config key of --setEnv\)\?/);
  });

  it("accepts every known key with Toil's defaults filled in", () => {
    const config = parseConfig({ jobStore: "./js", retryCount: 3 });
    expect(config.retryCount).toBe(3);
    expect(config.clean).toBe("onSuccess");
  });
});
