import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CONFIG_SCHEMA_ID,
  ConfigError,
  configFromJSON,
  configSchema,
  configToJSON,
  defaultConfig,
  parseConfig,
  prepareStart,
  readStoredConfig,
  trustedStoredConfig,
} from "../src/index.js";

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

describe("the stored configuration, read without the schema", () => {
  const config = prepareStart(defaultConfig({ jobStore: "/js", retryCount: 4, defaultMemory: "1Gi", environment: { A: "1" } }));

  it("names the schema it validates with: CONFIG_SCHEMA_ID is this schema's fingerprint (update it when an option changes)", () => {
    const fingerprint = createHash("sha256")
      .update(JSON.stringify({ options: Object.keys(configSchema.shape), defaults: defaultConfig() }))
      .digest("hex")
      .slice(0, 16);
    expect(CONFIG_SCHEMA_ID).toBe(`cfg1-${fingerprint}`);
  });

  it("takes a document this schema validated and nobody changed as it is", async () => {
    const text = configToJSON(config);
    expect(trustedStoredConfig(text)).toEqual(config);
    expect(await readStoredConfig(text)).toEqual(config);
    // Readers that know only formatVersion and config (configFromJSON, older toil-ts) still read it.
    expect(configFromJSON(text)).toEqual(config);
  });

  it("validates with the schema a document written under another schema, by an older writer, or changed since", async () => {
    const doc = JSON.parse(configToJSON(config)) as { formatVersion: number; schema: string; digest: string; config: Record<string, unknown> };
    const older = JSON.stringify({ formatVersion: 1, config: { ...doc.config, retryCount: undefined } });
    expect(trustedStoredConfig(older)).toBeUndefined();
    // Defaults the schema fills in are filled in.
    expect((await readStoredConfig(older)).retryCount).toBe(1);
    const otherSchema = JSON.stringify({ ...doc, schema: "cfg1-0000000000000000" });
    expect(trustedStoredConfig(otherSchema)).toBeUndefined();
    expect(await readStoredConfig(otherSchema)).toEqual(config);
    // A valid hand edit is taken (validated); a bad one is refused naming the option and the file.
    const edited = JSON.stringify({ ...doc, config: { ...doc.config, retryCount: 7 } });
    expect(trustedStoredConfig(edited)).toBeUndefined();
    expect((await readStoredConfig(edited)).retryCount).toBe(7);
    const bad = JSON.stringify({ ...doc, config: { ...doc.config, retryCount: "many" } });
    const err = await readStoredConfig(bad, "/js/meta/config.json").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^The stored configuration \/js\/meta\/config.json: Invalid configuration:\n {2}retryCount: "many" is not a whole number/);
    expect((err as ConfigError).issues.map((i) => i.option)).toEqual(["retryCount"]);
  });

  it("refuses a damaged or newer document with a ConfigError saying which and what to do", async () => {
    await expect(readStoredConfig("{not json", "/js/meta/config.json")).rejects.toThrow(/The stored configuration \/js\/meta\/config.json is not valid JSON .* it is damaged/);
    await expect(readStoredConfig(JSON.stringify({ formatVersion: 9, config: {} }))).rejects.toThrow(/format version 9, newer than this toil-ts reads/);
    await expect(readStoredConfig(JSON.stringify({ formatVersion: 1, config: [] }))).rejects.toBeInstanceOf(ConfigError);
  });
});
